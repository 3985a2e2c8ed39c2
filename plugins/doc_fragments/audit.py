# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    """Audit trail options shared by every module of the collection."""

    DOCUMENTATION = r"""
options:
  audit_log:
    description:
      - SQLite file of the local audit trail, on the host the module runs on (the controller for
        the lookup). Modules and lookups that talk to the KMS append one record per KMS call to
        it, success or failure, and make no KMS call when it cannot be written;
        M(pkimanager.kms.kms_audit) reads it.
      - If not set, the environment variable E(KMS_AUDIT_LOG) is used, then
        C(~/.local/state/pkimanager-kms/audit.db) of the user the module runs as
        (C($XDG_STATE_HOME/pkimanager-kms/audit.db) when E(XDG_STATE_HOME) is set).
      - A missing file is created with mode C(0600), and a missing directory with mode C(0700).
    type: path
  audit_jsonl:
    description:
      - Also append every record, as one JSON line, to this file (for log shippers). It is
        created with mode C(0600); its lines are in the same order as the records in O(audit_log).
      - A line is written only after its record is committed to O(audit_log), so the file never
        holds a record that the store rolled back. If the line cannot be written after that
        (a full disk), the task fails saying that the record is in O(audit_log) only; the
        next line's C(prev_hash) then shows the gap, and
        M(pkimanager.kms.kms_audit) with O(pkimanager.kms.kms_audit#module:action=export) writes
        the lines again from the store.
      - If not set, the environment variable E(KMS_AUDIT_JSONL) is used; without either, no
        JSON lines are written.
    type: path
notes:
  - Each audit record holds a record id, the operation id of the module run, a UTC timestamp,
    the operation (for example V(kms.create_key_pair)), the entity type and id, the status,
    details (the error reason and message unless V(success)), the KMS URL, the user and the
    host, and for modules run from a playbook the playbook file and the task name.
  - The status is V(success); V(not_found) for a read (C(Get), C(GetAttributes), C(Locate), ...)
    that the KMS answered with C(Object_Not_Found) or C(Item_Not_Found), such as the existence
    check before a create, which expects that answer; or V(failure) for any other failed call,
    a not-found answer to a Revoke or Destroy included.
  - The records form a hash chain, each holding the SHA-256 of its content and the hash of the
    record before it, so that M(pkimanager.kms.kms_audit) with O(pkimanager.kms.kms_audit#module:action=verify)
    detects edited, deleted and reordered records.
  - Nothing secret is recorded. Values of keys that name a secret (such as V(api_key), V(token),
    V(password), V(passphrase), V(secret), V(private_key), V(key_material), V(authorization),
    V(client_key)), strings that hold a PEM private key and raw bytes are written as
    V(<redacted>); the KMS URL is recorded without its user:password@ part.
  - A store that cannot be written (read-only, full file system, damaged) fails the task with
    a message naming the file and the cause, before the first KMS call when possible.
"""

    # For plugins that Ansible configures (the lookup): options.AuditOptions.ENV.
    PLUGINS = r"""
options:
  audit_log:
    env:
      - name: KMS_AUDIT_LOG
  audit_jsonl:
    env:
      - name: KMS_AUDIT_JSONL
"""

    # Options of the modules that write records from a task: pkimanager.kms.audit.context
    CONTEXT = r"""
options:
  audit_context:
    description:
      - Where this run comes from, written into each of its audit records.
      - The collection's action plugin fills it in on the controller (the playbook file and
        the task name) for any key you leave out, so playbooks need not set it; set it to label
        records of runs whose origin Ansible cannot see, such as a wrapper script.
    type: dict
    suboptions:
      playbook:
        description: The playbook (file) that ran the task.
        type: str
      task:
        description: The name of the task.
        type: str
"""
