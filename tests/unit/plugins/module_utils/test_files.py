# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Exported files: destinations checked before any KMS call, and a write that fails all the
same raises a TaskError (one line), which the module turns into its failure result."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil

import pytest

from ansible_collections.pkimanager.kms.plugins.module_utils.errors import TaskError
from ansible_collections.pkimanager.kms.plugins.module_utils.files import (
    destination_problem,
    destination_problems,
    write_text_file,
)


class FileModule:
    """The few AnsibleModule methods write_text_file uses."""

    check_mode = False
    params = {}

    @staticmethod
    def atomic_move(src, dest):
        os.rename(src, dest)

    @staticmethod
    def load_file_common_arguments(params, path):
        return {"path": path}

    @staticmethod
    def set_fs_attributes_if_different(file_args, changed):
        return changed


def test_a_writable_folder_has_no_problem(tmp_path):
    assert destination_problem("dest", str(tmp_path / "cert.pem")) is None
    assert destination_problems({"dest": str(tmp_path / "a.pem"), "chain_dest": None}, ["dest", "chain_dest"]) == []


def test_each_problem_names_the_option_and_the_folder(tmp_path):
    (tmp_path / "file").write_text("")
    (tmp_path / "folder").mkdir()
    assert destination_problem("dest", str(tmp_path / "missing" / "c.pem")) == (
        "dest %s: the folder %s does not exist" % (tmp_path / "missing" / "c.pem", tmp_path / "missing"))
    assert destination_problem("chain_dest", str(tmp_path / "file" / "c.pem")) == (
        "chain_dest %s: %s is not a folder" % (tmp_path / "file" / "c.pem", tmp_path / "file"))
    assert destination_problem("fullchain_dest", str(tmp_path / "folder")) == (
        "fullchain_dest %s is a folder, not a file" % (tmp_path / "folder"))


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write to any folder")
def test_a_folder_without_write_permission_is_a_problem(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        assert destination_problem("dest", str(folder / "c.pem")).endswith("the folder %s is not writable" % folder)
    finally:
        folder.chmod(0o700)


def test_write_then_unchanged(tmp_path):
    path = str(tmp_path / "c.pem")
    assert write_text_file(FileModule(), path, "PEM\n") is True
    assert write_text_file(FileModule(), path, "PEM\n") is False
    assert open(path).read() == "PEM\n" and os.listdir(str(tmp_path)) == ["c.pem"]


def test_a_folder_gone_since_the_check_is_a_task_error(tmp_path):
    folder = tmp_path / "gone"
    folder.mkdir()
    path = str(folder / "pub.pem")
    assert destination_problem("public_key_path", path) is None
    shutil.rmtree(str(folder))
    with pytest.raises(TaskError) as failed:
        write_text_file(FileModule(), path, "PEM\n", option="public_key_path")
    assert str(failed.value) == "public_key_path %s could not be written: No such file or directory" % path
