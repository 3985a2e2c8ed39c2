# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The base class of every module that talks to the KMS.

It wires, once: the shared connection and audit options, argument checks that must pass
before any KMS call, the client with its audit observer (every KMS call leaves a
record, success or failure), and the translation of KMS errors into ``fail_json``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.pkimanager.kms.plugins.module_utils.audit import AuditError, AuditTrail
from ansible_collections.pkimanager.kms.plugins.module_utils.audited_client import audited_client
from ansible_collections.pkimanager.kms.plugins.module_utils.errors import KmsError, PkiManagerError
from ansible_collections.pkimanager.kms.plugins.module_utils.options import AuditOptions, ConnectionOptions, kms_urls
from ansible_collections.pkimanager.kms.plugins.module_utils.redaction import redact

# KMIP operations that change the KMS: once one has succeeded, the run has changed something,
# and any later failure says so (see KmsModule.outcome).
CHANGING_OPERATIONS = frozenset(("Create", "CreateKeyPair", "Certify", "Activate", "Revoke", "Destroy",
                                 "DeleteAttribute"))


class NoneWhenMissing:
    """``call_or_none`` for anything with ``call(operation, entity_type)``: what the kinds use."""

    def call_or_none(self, operation, entity_type=None):
        """Like ``call``, but None when the KMS says the object does not exist."""
        try:
            return self.call(operation, entity_type)
        except KmsError as error:
            if error.not_found:
                return None
            raise


class KmsModule(NoneWhenMissing, AnsibleModule):
    """AnsibleModule with the KMS connection, audit trail and error handling built in.

    Modules give their own argument spec; ``validate`` (a callable returning a list of
    problems) runs before any KMS call, after the shared connection checks.

    ``outcome`` holds what the run has done so far (``changed`` once a KMS call changed
    something, and the ids a module adds): every failure result carries it, so a failure
    after the KMS changed (a file that cannot be written, a later call refused) still says
    what changed and which objects exist.
    """

    def __init__(self, argument_spec, validate=None, **kwargs):
        self.outcome = {}
        spec = dict(ConnectionOptions.argument_spec(), **AuditOptions.argument_spec())
        spec.update(AuditOptions.context_argument_spec())
        spec.update(argument_spec)
        kwargs["required_together"] = list(kwargs.get("required_together", [])) + ConnectionOptions.REQUIRED_TOGETHER
        super(KmsModule, self).__init__(argument_spec=spec, **kwargs)
        problems = (ConnectionOptions.problems(self.params) + AuditOptions.problems(self.params)
                    + list(validate(self.params) if validate else []))
        if problems:
            self.fail_json(msg="Invalid arguments: " + "; ".join(problems))
        self._client = None
        context = dict((k, v) for k, v in (self.params["audit_context"] or {}).items() if v)
        # Records made by hand (kms_crl) name the node of their call; this is the fallback.
        context["kms_url"] = kms_urls(self.params["kms_url"])[0]
        self.audit = AuditTrail(self.params["audit_log"], jsonl_path=self.params.get("audit_jsonl"),
                                context=context)

    @property
    def client(self):
        """The KMIP client, created on first use, after the audit store proved writable."""
        if self._client is None:
            try:
                self._client = audited_client(self.params, self.audit, on_failure=self._audit_failed)
            except AuditError as exc:
                self._audit_failed(exc)
        return self._client

    def call(self, operation, entity_type=None):
        """Run one operation; a KMS failure is raised (KmsError) and ends the run in :meth:`exit_with`."""
        if entity_type:
            operation.entity_type = entity_type
        value = self.client.call(operation)
        if operation.name in CHANGING_OPERATIONS:
            self.outcome["changed"] = True
        return value

    def fail_kms(self, error, **result):
        self.fail_json(msg=str(error), kms_error=error.to_dict(), **result)

    def fail_json(self, msg, **kwargs):
        """AnsibleModule.fail_json, with :attr:`outcome` in the result (``kwargs`` win).

        The message is redacted for every rendering of the API key (no_log only masks the
        raw value), whatever produced it: the last line of defence for an error text that
        quoted a credential."""
        result = dict(getattr(self, "outcome", None) or {})
        result.update(kwargs)
        secrets = [getattr(self, "params", {}).get("api_key")]
        super(KmsModule, self).fail_json(msg=redact(msg, secrets), **result)

    def exit_with(self, run):
        """``exit_json(**run())``: a failure anywhere in ``run`` ends the module with a one-line
        message instead of a traceback -- a KmsError with its reason (and ``kms_error``), any
        other error of the collection (PkiManagerError: audit store, TTLV codec, a TaskError
        with its result fields) with its message, and anything else (a bug, an answer no check foresaw) as a KmsError too,
        with the type it had."""
        try:
            result = run()
        except KmsError as error:
            self.fail_kms(error)
        except PkiManagerError as error:
            self.fail_json(msg=" ".join(str(error).split()), **getattr(error, "result", {}))
        except Exception as exc:
            self.fail_kms(KmsError("unexpected %s: %s" % (type(exc).__name__, " ".join(str(exc).split())[:500]),
                                   reason="General_Failure"))
        else:
            self.exit_json(**result)

    def _audit_failed(self, error):
        """The audit store failed (before the first KMS call, or after one): end the run."""
        self.fail_json(msg=str(error))
