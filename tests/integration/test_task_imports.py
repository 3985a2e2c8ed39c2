"""What a task imports is most of what it costs (every task is a new Python process that
compiles the collection's code from a zip): the paths users loop over import only what they
need. Each module runs as Ansible runs it, in a process of its own, and reports sys.modules."""

import json
import os
import subprocess
import sys
import uuid

from ansible_collections.pkimanager.kms.plugins.module_utils import operations as ops

X509_CODE = ["x509", "certificate", "issuers", "crl", "x509_keys", "x509_urls", "pkcs12", "certificate_info"]
WRAPPER = """
import atexit, json, os, runpy, sys
atexit.register(lambda: open(os.environ["MODULES_FILE"], "w").write(json.dumps(sorted(sys.modules))))
runpy.run_module(sys.argv.pop(2), run_name="__main__")
"""


def imported_by(module, args, env, tmp_path):
    """The modules loaded by one run of ``module`` with ``args``, and its result."""
    args_file, modules_file = tmp_path / "args.json", tmp_path / "modules.json"
    module_args = dict(args, kms_url=env["KMS_URL"], audit_log=env["KMS_AUDIT_LOG"])
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": module_args}))
    run = subprocess.run([sys.executable, "-c", WRAPPER, str(args_file),
                          "ansible_collections.pkimanager.kms.plugins.modules.%s" % module],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False,
                         env=dict(os.environ, MODULES_FILE=str(modules_file)))
    assert run.stdout.strip(), "%s printed nothing" % module
    result = json.loads(run.stdout.strip().splitlines()[-1])
    return set(json.loads(modules_file.read_text())), result


def ours(modules):
    prefix = "ansible_collections.pkimanager.kms.plugins.module_utils."
    return {name[len(prefix):] for name in modules if name.startswith(prefix)}


def test_an_existing_key_pair_is_read_without_cryptography_or_x509_code(env, client, tmp_path):
    name = "imports-%s" % uuid.uuid4().hex[:8]
    client.call(ops.create_key_pair(key_type="ec", curve="P-256", private_key_id=name))
    modules, result = imported_by("kms_keypair", {"name": name, "type": "ec", "curve": "P-256"}, env, tmp_path)
    assert result.get("changed") is False and result["public_key_pem"].startswith("-----BEGIN PUBLIC KEY-----"), result
    # Nor http.client (it imports email and ssl, ~14 ms): an http:// node needs no TLS.
    assert not {name for name in modules if name.split(".")[0] in (
        "cryptography", "requests", "urllib3", "http", "email", "ssl")}, sorted(modules)
    assert not ours(modules) & set(X509_CODE), sorted(ours(modules))
