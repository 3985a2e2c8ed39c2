# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: kms_pem
short_description: Read a public key or certificate PEM from Cosmian KMS by name
version_added: 0.1.0
author:
  - pkimanager maintainers (@pkimanager)
description:
  - Returns the PEM of each named object held in the KMS, read on the controller.
  - For O(type=public_key), a name is a key pair name as used by M(pkimanager.kms.kms_keypair)
    (the private key's id; its public key is found through the pair's link) or a public key id.
  - For O(type=certificate), a name is a certificate name as used by M(pkimanager.kms.kms_certificate).
  - The type of each object is read first (GetAttributes), and only a public key or a certificate is
    ever read. A name of any other object (such as a key pair's private key given with O(type=certificate))
    fails with an error naming its type, and nothing of that object leaves the KMS.
  - The connection options fall back to the same environment variables as the modules
    (E(KMS_URL), E(COSMIAN_KMS_SERVER_URL), E(KMS_API_KEY), E(COSMIAN_KMS_API_KEY)).
  - O(kms_url) takes several KMS nodes like the modules' (a list, or URLs separated by commas),
    with the same failover.
  - Every KMS call of the lookup (reads only) is written to the audit trail on the controller,
    like the modules' calls; the lookup makes no KMS call when the audit trail cannot be written.
options:
  _terms:
    description: Names of the objects to read.
    required: true
    type: list
    elements: str
  type:
    description: What to read.
    type: str
    choices: [public_key, certificate]
    default: public_key
extends_documentation_fragment:
  - pkimanager.kms.connection
  - pkimanager.kms.connection.plugins
  - pkimanager.kms.audit
  - pkimanager.kms.audit.plugins
"""

EXAMPLES = r"""
- name: Public key of a key pair, for a template
  ansible.builtin.debug:
    msg: "{{ lookup('pkimanager.kms.kms_pem', 'web-signing', kms_url='http://127.0.0.1:42998') }}"

- name: From either of two KMS nodes (the second answers when the first is down)
  ansible.builtin.debug:
    msg: "{{ lookup('pkimanager.kms.kms_pem', 'web-signing', kms_url=['http://127.0.0.1:9998', 'http://127.0.0.1:9999']) }}"

- name: A CA certificate into a variable (connection from KMS_URL / KMS_API_KEY)
  ansible.builtin.set_fact:
    root_ca_pem: "{{ lookup('pkimanager.kms.kms_pem', 'root-ca-cert', type='certificate') }}"
"""

RETURN = r"""
_raw:
  description: One PEM string per name, in the order of the names.
  type: list
  elements: str
"""

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.pkimanager.kms.plugins.module_utils import operations as ops
from ansible_collections.pkimanager.kms.plugins.module_utils.audit import AuditTrail
from ansible_collections.pkimanager.kms.plugins.module_utils.audited_client import audited_client
from ansible_collections.pkimanager.kms.plugins.module_utils.errors import PkiManagerError
from ansible_collections.pkimanager.kms.plugins.module_utils.lifecycle import wrong_type_message
from ansible_collections.pkimanager.kms.plugins.module_utils.options import ConnectionOptions, kms_urls


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        # The modules' environment variables come from the PLUGINS doc fragments.
        self.set_options(var_options=variables, direct=kwargs)
        params = ConnectionOptions.values(self.get_option)
        problems = ConnectionOptions.problems(params)
        if problems:
            raise AnsibleLookupError("; ".join(problems))
        with AuditTrail(self.get_option("audit_log"), jsonl_path=self.get_option("audit_jsonl"),
                        context={"kms_url": kms_urls(params["kms_url"])[0]}) as trail:
            try:
                client = audited_client(params, trail)
                try:
                    return [self._read(client, name) for name in terms]
                finally:
                    client.transport.close()
            except PkiManagerError as error:
                raise AnsibleLookupError(str(error))

    def _read(self, client, name):
        """The PEM of ``name``; its type is read first, so a private key is never asked for."""
        problem = ops.object_name_problem(name)
        if problem:
            raise AnsibleLookupError("kms_pem: %s" % problem)
        attributes = client.call(ops.get_attributes(name))
        object_type = attributes["object_type"]
        if self.get_option("type") == "certificate":
            if object_type != "Certificate":
                raise AnsibleLookupError(wrong_type_message(name, object_type, "Certificate", role="kms_pem")
                                         + "; type=certificate reads certificates only")
            return client.call(ops.get_certificate(name))["pem"]
        public_key_id = name
        if object_type == "PrivateKey":
            public_key_id = attributes["links"].get("PublicKeyLink")
            if not public_key_id:
                raise AnsibleLookupError("key pair %r has no public key link" % name)
            # The link is the server's word: the object it names is checked like a name given directly.
            object_type = client.call(ops.get_attributes(public_key_id))["object_type"]
        if object_type != "PublicKey":
            raise AnsibleLookupError("%r is a %s in the KMS, not a key pair or public key"
                                     % (public_key_id, object_type))
        return client.call(ops.get_public_key(public_key_id))["pem"]
