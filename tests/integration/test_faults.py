"""The fault and bad-input suite (issue 15): every way a task can be given bad input or meet
a broken peer ends in a clear one-line error, with no traceback, nothing created or changed
on the KMS, and an audit record whenever a request was sent.

How: the cases of CASES run as one ansible-playbook at -vvv (each case a host of its own,
side by side under the free strategy; see tests/helpers/fault_cases.py), against the real
server, a non-KMS HTTP server and three TLS servers on 127.0.0.1
(tests/helpers/fake_servers.py). Each case is then one test: failed, one line, matching
its message, no traceback, its audit records as its ``audit`` column says, and its names
not created. Around the run, raw Locates of every state compare the KMS before and after.
The credentials are secrets with a newline, carriage return, tab or quote in them; no
rendering of any of them (raw, repr, JSON, URL-encoded, or a 5+ character piece) may
appear in the output, the results or the audit files. Further tests run the audit store
read-only, corrupted and on a full file system (tmpfs mounts), the credentials from the
environment, odd but legal subjects, and a kill -9 and restart of the server in the middle
of a playbook of 20 key pairs.

Audit column: failure = a request was sent and failed (a failure record, with the
error's attempts); call = a request was sent (some record); none = refused before any
request (no record); - = either.

=================================== ============================================== ===================== =======
case                                input                                          message must say      audit
=================================== ============================================== ===================== =======
kp-size-type                        kms_keypair size: "big"                        size ... int          none
kp-size-range                       size: 1024                                     value of size         none
kp-size-negative                    size: -2048                                    value of size         none
kp-state-choice                     state: gone                                    value of state        none
kp-tags-type                        tags: {a: 1}                                   tags ... list         none
kp-tags-reserved                    tags: [_x]                                     must not start with _ none
kp-tags-empty                       tags: [""]                                     non-empty             none
kp-purge-tags-type                  purge_tags: maybe                              purge_tags ... bool   none
kp-activate-type                    activate: perhaps                              activate ... bool     none
kp-regenerate-choice                regenerate: sometimes                          value of regenerate   none
kp-revocation-reason-choice         revocation_reason: Bored                       revocation_reason     none
kp-revocation-message-misplaced     revocation_message with state=present          revocation_message    none
kp-timeout-type                     timeout: soon                                  timeout ... float     none
kp-timeout-zero                     timeout: 0                                     timeout must be       none
kp-timeout-negative                 timeout: -5                                    timeout must be       none
kp-retries-zero                     retries: 0                                     retries               none
kp-retries-type                     retries: many                                  retries ... int       none
kp-validate-certs-type              validate_certs: sometimes                      validate_certs        none
kp-url-scheme                       kms_url: ftp://...                             kms_url must start    none
kp-url-empty                        kms_url: ""                                    kms_url               none
kp-unknown-option                   colour: blue                                   Unsupported: colour   none
kp-client-key-alone                 client_key without client_cert                 client_cert           none
kp-public-key-path-missing-dir      public_key_path in a missing folder            public_key_path       none
kp-public-key-path-is-dir           public_key_path is a folder                    public_key_path       none
name-slash                          name with /                                    1 to 128 characters   none
name-trailing-newline               name ending in \\n                              1 to 128 characters   none
name-unicode                        name with u-umlaut, o-slash                    1 to 128 characters   none
name-129                            129 characters                                 1 to 128 characters   none
name-empty                          ""                                             1 to 128 characters   none
name-nul                            name with NUL                                  1 to 128 characters   none
name-tag-array                      '["x"]' (a tag query)                          1 to 128 characters   none
name-space                          name with a space                              1 to 128 characters   none
name-leading-dash                   -x                                             1 to 128 characters   none
name-list-type                      name: [a, b]                                   1 to 128 characters   none
cert-name-slash                     kms_certificate name with /                    1 to 128 characters   none
cred-api-key-newline                api_key with \\n                                api_key               none
cred-api-key-cr                     api_key with \\r                                api_key               none
cred-api-key-tab                    api_key with \\t                                api_key               none
cred-api-key-non-latin1             api_key with Cyrillic letters                  api_key               -
cred-certificate-newline            kms_certificate api_key with \\n                api_key               none
cred-lookup-newline                 kms_pem api_key with \\n                        api_key               none
cert-provider-choice                provider: acme                                 value of provider     none
cert-validity-zero                  validity_days: 0                               validity_days         none
cert-validity-type                  validity_days: long                            validity_days ... int none
cert-renew-negative                 renew_before_days: -1                          renew_before_days     none
cert-key-usage-unknown              key_usage: [signEverything]                    key_usage: unknown    none
cert-eku-unknown                    extended_key_usage: [worldDomination]          extended_key_usage    none
cert-path-length-not-ca             basic_constraints ca=false, path_length=2      path_length           none
cert-path-length-negative           basic_constraints path_length=-1               path_length           none
cert-basic-constraints-type         basic_constraints: "yes"                       basic_constraints     none
cert-subject-type                   subject: "CN"                                  subject ... dict      none
cert-subject-empty-cn               subject CN ""                                  subject.CN            none
cert-subject-country                subject C France                               subject.C             none
cert-subject-unknown-field          subject XX                                     unknown fields        none
cert-subject-too-long               subject CN of 65 characters                    subject.CN ... 64     none
cert-san-no-type                    SAN www.example.com                            type prefixes         none
cert-san-space                      SAN DNS:a b.example                            spaces                none
cert-san-comma                      SAN DNS:a.example,DNS:b.example                commas                none
cert-san-newline                    SAN with \\n                                    spaces                none
cert-san-bad-ip                     SAN IP:999.1.1.1                               IPv4 or IPv6          none
cert-san-bad-email                  SAN email:nobody                               e-mail                none
cert-san-bad-uri                    SAN URI:no-scheme                              absolute URI          none
cert-san-idn                        SAN DNS with non-ASCII letters                 not a DNS name        none
cert-san-quote                      SAN email:o'brien@...                          quotes                none
cert-misplaced-issuer               selfsigned with issuer                         issuer is not used    none
cert-missing-keypair                kms_ca without keypair                         keypair               none
cert-keypair-empty                  keypair: ""                                    keypair               -
cert-issuer-empty                   issuer: ""                                     issuer                -
cert-csr-both                       csr_path and csr_content                       mutually exclusive    none
cert-csr-garbage                    CSR PEM armour around junk                     not a PEM ... request none
cert-csr-truncated                  CSR cut in half                                not a PEM ... request none
cert-csr-certificate                a certificate where the CSR goes               not a PEM ... request none
cert-csr-bad-signature              CSR with a flipped signature byte              signature             none
cert-csr-der                        DER CSR file where PEM is expected             not a PEM ... request none
cert-csr-missing-file               csr_path does not exist                        cannot be read        none
cert-csr-directory                  csr_path is a folder                           cannot be read        none
cert-csr-ca                         CSR asking for CA:TRUE                         CA certificate        none
cert-dest-missing-dir               dest in a missing folder                       dest                  none
cert-fullchain-missing-dir          fullchain_dest in a missing folder             fullchain_dest        none
kt-type-choice                      kms_keypair type: dsa                          value of type         none
kt-ec-without-curve                 type: ec, no curve                             needs curve           none
kt-curve-with-rsa                   curve: P-256 with type rsa                     curve is only used    none
kt-size-with-ed25519                size: 2048 with type ed25519                   size is only used     none
kt-private-key-not-exportable       private_key_path with exportable: false        needs an exportable   none
kt-passphrase-without-path          private_key_passphrase alone                   only used with        none
sym-algorithm-choice                kms_symmetric_key algorithm: des               value of algorithm    none
sym-size-choice                     size: 512                                      value of size         none
sym-chacha20-size                   algorithm chacha20, size 128                   size must be one of   none
sym-key-path-missing-dir            key_path in a missing folder                   key_path              none
info-type-choice                    kms_key_info type: dsa                         value of type         none
info-size-of-ed25519                type ed25519 with size 256                     has no size           none
info-tags-reserved                  tags: [_x]                                     must not start with _ none
audit-action-choice                 kms_audit action: delete                       value of action       none
audit-limit-negative                limit: -1                                      limit must be         none
audit-limit-type                    limit: lots                                    limit ... int         none
audit-since-garbage                 since: yesterday                               since ... ISO 8601    none
audit-until-invalid-date            until: 2026-13-45                              until                 none
audit-since-bad-offset              since with offset +25:99                       since                 none
audit-status-choice                 status: broken                                 value of status       none
audit-format-choice                 format: xml                                    value of format       none
audit-export-no-dest                action=export without dest                     dest                  none
audit-export-missing-dir            export dest in a missing folder                directory of dest     none
audit-export-dest-is-dir            export dest is a folder                        is a directory        none
audit-newest-first-type             newest_first: sideways                         newest_first ... bool none
audit-store-is-directory            audit_log is a folder                          audit store           none
kms-keypair-name-is-certificate     kms_keypair named like a certificate           is a Certificate      call
kms-certificate-name-is-keypair     kms_certificate named like a key pair          is a PrivateKey       call
kms-issuer-not-certificate          issuer is a key pair                           issuer ... PrivateKey call
kms-issuer-missing                  issuer does not exist                          no certificate        call
kms-keypair-missing                 keypair does not exist                         no key pair           call
kms-validity-beyond-issuer          365 days under a 30-day CA                     would end after       call
kms-keypair-revoked                 keypair is revoked                             only an Active        call
kms-revoke-missing-pair             state=revoked, no such pair                    no key pair named     call
kms-revoke-missing-cert             state=revoked, no such certificate             no certificate named  call
kms-size-mismatch                   size 4096 for a 2048 pair, regenerate=fail     size is 2048          call
kms-tags-mismatch                   other tags, regenerate=fail                    tags are              call
kms-subject-newline                 subject CN with \\n                             subject ... CN        -
kms-subject-nul                     subject O with NUL                             subject ... O         -
kms-lookup-certificate-of-keypair   kms_pem type=certificate of a key pair         not a certificate     call
kms-lookup-missing                  kms_pem of a missing name                      not found             call
http-html                           200 HTML page                                  not JSON              failure
http-empty                          200 empty body                                 not JSON / empty      failure
http-truncated                      200 truncated JSON                             not JSON              failure
http-array                          200 JSON array                                 TTLV                  failure
http-not-ttlv                       200 JSON object of another shape               TTLV                  failure
http-wrong-types                    200 TTLV with a TextString ActivationDate      ActivationDate/TTLV   failure
http-tag-not-text                   200 TTLV with tags [1]                         tag / answer          failure
http-deep                           200 JSON nested 100000 deep                    nested / JSON         failure
http-big                            200 body of 50 MB                              too large             failure
http-redirect                       302 to another URL                             redirect              failure
http-403                            403 HTML                                       403                   failure
http-404                            404 HTML                                       404                   failure
http-500                            500, retried                                   500 ... 2 attempts    failure
http-503                            503, retried                                   503 ... 2 attempts    failure
http-refused                        nothing listening                              refused, 2 attempts   failure
http-hang                           accepts, never answers (timeout 1 s)           2 attempts ... time   failure
tls-wrong-name                      certificate for wrong.example                  certificate / name    failure
tls-unknown-ca                      certificate from an unknown CA                 certificate verify    failure
tls-unknown-ca-default-store        the same, without ca_cert                      certificate verify    failure
tls-ca-missing-file                 ca_cert does not exist                         ca_cert               -
tls-client-cert-missing-file        client_cert does not exist                     client_cert           -
tls-client-key-missing-file         client_key does not exist                      client_key            -
tls-ca-garbage                      ca_cert of junk                                ca_cert / X509 / PEM  -
tls-ca-truncated                    ca_cert PEM cut in half                        ca_cert / X509 / PEM  -
tls-ca-der                          ca_cert in DER                                 ca_cert / X509 / PEM  -
tls-ca-public-key                   ca_cert holding a public key                   ca_cert / X509 / PEM  -
tls-ca-empty                        ca_cert empty                                  ca_cert / X509 / PEM  -
tls-client-cert-garbage             client_cert of junk                            client_cert / PEM     -
=================================== ============================================== ===================== =======

Further cases, one test each:

=================================== =================================================================================
case                                what must happen
=================================== =================================================================================
store-readonly-write                audit store on a read-only mount: kms_keypair refuses before any KMS call
store-readonly-read                 kms_audit verify on it: the whole chain, or a one-line error naming the store
store-garbage-write                 store of junk bytes: kms_keypair refuses, nothing created
store-garbage-read                  kms_audit verify on it: a one-line error naming the store
store-truncated-write               store cut in half: kms_keypair refuses, nothing created
store-truncated-read                kms_audit verify on it: an error, or valid=false; never valid
store-version-zero-write            PRAGMA user_version=0 on a store with records: kms_keypair refuses
store-version-zero-read             kms_audit verify on it: broken (an error or valid=false), not "valid, 0 records"
store-full-existing                 store on a full 512k tmpfs: refused, nothing created, mirror lines all committed
store-full-new                      new store on a 64k tmpfs: refused before any KMS call
store-is-directory                  audit_log is a folder: refused before any KMS call
env-keypair                         KMS_API_KEY with a newline in the environment: refused, never shown
env-certificate                     the same for kms_certificate
env-lookup                          the same for the kms_pem lookup
odd-subject-unicode                 CN and O with non-ASCII letters: issued exactly as asked, or refused clearly
odd-subject-separators              CN and O with , = + ;: the same
odd-subject-quotes                  CN and O with quotes and angle brackets: the same
odd-subject-slashes                 CN and O with a backslash, a slash and #: the same
odd-subject-spaces                  CN and O with leading and trailing spaces: the same
restart-20-pairs                    kill -9 and restart of the KMS during 20 creations: the rerun completes, exactly
                                    20 pairs, one successful create record per pair, every failure audited with its
                                    attempts, the chain verifies
=================================== =================================================================================

155 cases in all: 135 in the first table, 11 store, 3 environment, 5 subject and 1 restart case.
"""

import json
import os
import re
import signal
import sqlite3
import subprocess
import threading
import time
import uuid

import pytest

from ansible_collections.pkimanager.kms.plugins.module_utils import operations as ops
from ansible_collections.pkimanager.kms.plugins.module_utils.audit import AuditTrail
from ansible_collections.pkimanager.kms.plugins.module_utils.client import KmsClient
from ansible_collections.pkimanager.kms.plugins.module_utils.transport import KmsTransport

from fake_servers import NotKmsServer, TlsServers, bad_csrs, closed_port_url
from fault_cases import (
    Case,
    audit_rows,
    case_result,
    check_audit,
    check_clean_failure,
    kms_snapshot,
    records_of_error,
    run_cases,
    secret_leaks,
    snapshot_changes,
    store_files,
)
from kms_checks import exists
from playbook import run_playbook

# Under pytest-xdist --dist loadgroup, the tests reading one shared run stay on one worker.
IN_FAULT_RUN = pytest.mark.xdist_group("faults-run")
IN_STORE_RUN = pytest.mark.xdist_group("faults-store")

# Credentials. TOKEN is well formed (a client may send it; the fake servers echo it back in
# their pages, JSON and Location); the others can never be sent and must be refused.
TOKEN = 'FltTok9+qXenSec"rt/Zq9f2e=='
NEWLINE_KEY = "FaultNl9Alpha\nBravo4Lf"
CR_KEY = "FaultCr9Alpha\rBravo4Cr"
TAB_KEY = "FaultTab9Alpha\tBravo4Tab"
NON_LATIN_KEY = "FaultUni9Alpha-\u043a\u043b\u044e\u0447"
ENV_KEY = "FaultEnv9Alpha\nBravo4Env"
SECRETS = (TOKEN, NEWLINE_KEY, CR_KEY, TAB_KEY, NON_LATIN_KEY, ENV_KEY)

NAME_RULE = r"1 to 128 characters"
NOT_CSR = r"not a PEM certificate signing request"
BAD_CA_FILE = r"ca_cert|X509|PEM|certificate"


def _keypair(case_id, expect, audit="none", **args):
    return Case(case_id, "kms_keypair", dict({"name": "fault-{uid}-" + case_id, "size": 2048}, **args), expect, audit)


def _certificate(case_id, expect, audit="none", **args):
    base = {"name": "fault-{uid}-" + case_id, "provider": "kms_ca", "keypair": "{pair}", "issuer": "{ca}",
            "subject": {"CN": "fault.example"}, "validity_days": 10}
    return Case(case_id, "kms_certificate", dict(base, **args), expect, audit)


def _csr(case_id, expect, **args):
    return _certificate(case_id, expect, provider="csr", keypair=None, subject=None, **args)


def _audit(case_id, expect, **args):
    return Case(case_id, "kms_audit", args, expect, "none")


def _peer(case_id, url, expect, audit, attempts, **args):
    """kms_keypair against a peer that is not a working KMS, with TOKEN as credential."""
    options = dict({"kms_url": url, "api_key": TOKEN, "retries": 2, "timeout": 5}, **args)
    case = _keypair(case_id, expect, audit, **options)
    case.attempts = attempts
    return case


def _http(case_id, mode, expect, attempts=1, **args):
    return _peer(case_id, "{refused}" if mode is None else "{http}/" + mode, expect, "failure", attempts, **args)


def _tls(case_id, server, expect, audit="failure", **args):
    return _peer(case_id, "{tls_%s}" % server, expect, audit, 1 if audit else None, **args)


CASES = [
    # kms_keypair: every option's wrong type and out-of-range value
    _keypair("kp-size-type", r"size.*int", size="big"),
    _keypair("kp-size-range", r"value of size must be one of", size=1024),
    _keypair("kp-size-negative", r"value of size must be one of", size=-2048),
    _keypair("kp-state-choice", r"value of state must be one of", state="gone"),
    _keypair("kp-tags-type", r"tags.*list", tags={"a": 1}),
    _keypair("kp-tags-reserved", r"must not start with '_'", tags=["_x"]),
    _keypair("kp-tags-empty", r"tags must be non-empty", tags=[""]),
    _keypair("kp-purge-tags-type", r"purge_tags.*bool", purge_tags="maybe"),
    _keypair("kp-activate-type", r"activate.*bool", activate="perhaps"),
    _keypair("kp-regenerate-choice", r"value of regenerate must be one of", regenerate="sometimes"),
    _keypair("kp-revocation-reason-choice", r"revocation_reason must be one of", state="revoked",
             revocation_reason="Bored"),
    _keypair("kp-revocation-message-misplaced", r"revocation_message", revocation_message="why"),
    _keypair("kp-timeout-type", r"timeout.*float", timeout="soon"),
    _keypair("kp-timeout-zero", r"timeout must be a positive", timeout=0),
    _keypair("kp-timeout-negative", r"timeout must be a positive", timeout=-5),
    _keypair("kp-retries-zero", r"retries", retries=0),
    _keypair("kp-retries-type", r"retries.*int", retries="many"),
    _keypair("kp-validate-certs-type", r"validate_certs.*bool", validate_certs="sometimes"),
    _keypair("kp-url-scheme", r"kms_url must start with", kms_url="ftp://127.0.0.1/"),
    _keypair("kp-url-empty", r"kms_url", kms_url=""),
    _keypair("kp-unknown-option", r"Unsupported parameters.*colour", colour="blue"),
    _keypair("kp-client-key-alone", r"client_cert", client_key="{client_key}"),
    _keypair("kp-public-key-path-missing-dir", r"public_key_path", public_key_path="{tmp}/no/such/folder/pub.pem"),
    _keypair("kp-public-key-path-is-dir", r"public_key_path", public_key_path="{tmp}"),
    # names
    _keypair("name-slash", NAME_RULE, name="fault/{uid}"),
    _keypair("name-trailing-newline", NAME_RULE, name="fault-{uid}-nl\n"),
    _keypair("name-unicode", NAME_RULE, name="fault-{uid}-\u00fcn\u00efc\u00f8d\u00e9"),
    _keypair("name-129", NAME_RULE, name="n" * 121 + "{uid}"),
    _keypair("name-empty", NAME_RULE, name=""),
    _keypair("name-nul", NAME_RULE, name="fault-{uid}\x00nul"),
    _keypair("name-tag-array", NAME_RULE, name='["fault-{uid}"]'),
    _keypair("name-space", NAME_RULE, name="fault {uid}"),
    _keypair("name-leading-dash", NAME_RULE, name="-fault-{uid}"),
    _keypair("name-list-type", NAME_RULE, name=["fault", "{uid}"]),
    _certificate("cert-name-slash", NAME_RULE, name="fault/{uid}/cert"),
    # credentials with control characters (and one a header cannot carry)
    _keypair("cred-api-key-newline", r"api_key", api_key=NEWLINE_KEY),
    _keypair("cred-api-key-cr", r"api_key", api_key=CR_KEY),
    _keypair("cred-api-key-tab", r"api_key", api_key=TAB_KEY),
    _keypair("cred-api-key-non-latin1", r"api_key", None, api_key=NON_LATIN_KEY),
    _certificate("cred-certificate-newline", r"api_key", state="absent", api_key=NEWLINE_KEY),
    Case("cred-lookup-newline", "lookup", {"api_key": NEWLINE_KEY}, r"api_key", "none", terms=["fault-{uid}-lk"]),
    # kms_certificate options
    _certificate("cert-provider-choice", r"value of provider must be one of", provider="acme"),
    _certificate("cert-validity-zero", r"validity_days must be 1 or more", validity_days=0),
    _certificate("cert-validity-type", r"validity_days.*int", validity_days="long"),
    _certificate("cert-renew-negative", r"renew_before_days must be 0 or more", renew_before_days=-1),
    _certificate("cert-key-usage-unknown", r"key_usage: unknown", key_usage=["signEverything"]),
    _certificate("cert-eku-unknown", r"extended_key_usage: unknown", extended_key_usage=["worldDomination"]),
    _certificate("cert-path-length-not-ca", r"path_length", basic_constraints={"ca": False, "path_length": 2}),
    _certificate("cert-path-length-negative", r"path_length", basic_constraints={"ca": True, "path_length": -1}),
    _certificate("cert-basic-constraints-type", r"basic_constraints|dictionary requested", basic_constraints="yes"),
    _certificate("cert-subject-type", r"subject.*dict", subject="CN"),
    _certificate("cert-subject-empty-cn", r"subject\.CN must be a non-empty", subject={"CN": ""}),
    _certificate("cert-subject-country", r"subject\.C must be a two-letter", subject={"CN": "x", "C": "France"}),
    _certificate("cert-subject-unknown-field", r"unknown fields XX", subject={"CN": "x", "XX": "y"}),
    _certificate("cert-subject-too-long", r"subject\.CN is longer than the 64", subject={"CN": "x" * 65}),
    _certificate("cert-san-no-type", r"type prefixes", subject_alt_names=["www.example.com"]),
    _certificate("cert-san-space", r"spaces", subject_alt_names=["DNS:a b.example"]),
    _certificate("cert-san-comma", r"commas", subject_alt_names=["DNS:a.example,DNS:b.example"]),
    _certificate("cert-san-newline", r"spaces", subject_alt_names=["DNS:a.example\nDNS:b.example"]),
    _certificate("cert-san-bad-ip", r"IPv4 or IPv6", subject_alt_names=["IP:999.1.1.1"]),
    _certificate("cert-san-bad-email", r"e-mail", subject_alt_names=["email:nobody"]),
    _certificate("cert-san-bad-uri", r"absolute URI", subject_alt_names=["URI:no-scheme"]),
    _certificate("cert-san-idn", r"not a DNS name", subject_alt_names=["DNS:b\u00fccher.example"]),
    _certificate("cert-san-quote", r"quotes", subject_alt_names=["email:o'brien@example.com"]),
    _certificate("cert-misplaced-issuer", r"issuer is not used with provider=selfsigned", provider="selfsigned"),
    _certificate("cert-missing-keypair", r"keypair", keypair=None),
    _certificate("cert-keypair-empty", r"keypair", None, provider="selfsigned", issuer=None, keypair=""),
    _certificate("cert-issuer-empty", r"issuer", None, issuer=""),
    _csr("cert-csr-both", r"mutually exclusive", csr_path="{csr_garbage}", csr_content="{csr_garbage_text}"),
    _csr("cert-csr-garbage", NOT_CSR, csr_content="{csr_garbage_text}"),
    _csr("cert-csr-truncated", NOT_CSR, csr_content="{csr_truncated_text}"),
    _csr("cert-csr-certificate", NOT_CSR, csr_content="{csr_certificate_text}"),
    _csr("cert-csr-bad-signature", r"signature", csr_content="{csr_bad_signature_text}"),
    _csr("cert-csr-der", NOT_CSR, csr_path="{csr_der}"),
    _csr("cert-csr-missing-file", r"cannot be read", csr_path="{tmp}/missing.csr"),
    _csr("cert-csr-directory", r"cannot be read", csr_path="{tmp}"),
    _csr("cert-csr-ca", r"CA certificate", csr_content="{csr_ca_text}"),
    _certificate("cert-dest-missing-dir", r"\bdest\b", keypair="{pair_dest}", dest="{tmp}/no/such/folder/c.pem"),
    _certificate("cert-fullchain-missing-dir", r"fullchain_dest", keypair="{pair_dest}",
                 fullchain_dest="{tmp}/no/such/folder/full.pem"),
    # key types, symmetric keys and the key inventory
    _keypair("kt-type-choice", r"value of type must be one of", type="dsa"),
    _keypair("kt-ec-without-curve", r"type=ec needs curve", type="ec", size=None),
    _keypair("kt-curve-with-rsa", r"curve is only used with type=ec", curve="P-256"),
    _keypair("kt-size-with-ed25519", r"size is only used with type=rsa", type="ed25519"),
    _keypair("kt-private-key-not-exportable", r"private_key_path needs an exportable key pair", exportable=False,
             private_key_path="{tmp}/kt.key"),
    _keypair("kt-passphrase-without-path", r"private_key_passphrase is only used with private_key_path",
             private_key_passphrase="secret words"),
    Case("sym-algorithm-choice", "kms_symmetric_key", {"name": "fault-{uid}-sym-algorithm-choice", "algorithm": "des"},
         r"value of algorithm must be one of", "none"),
    Case("sym-size-choice", "kms_symmetric_key", {"name": "fault-{uid}-sym-size-choice", "size": 512},
         r"value of size must be one of", "none"),
    Case("sym-chacha20-size", "kms_symmetric_key", {"name": "fault-{uid}-sym-chacha20-size", "algorithm": "chacha20",
                                                    "size": 128}, r"size must be one of 256", "none"),
    Case("sym-key-path-missing-dir", "kms_symmetric_key", {"name": "fault-{uid}-sym-key-path", "exportable": True,
                                                           "key_path": "{tmp}/no/such/folder/k.bin"},
         r"key_path .* does not exist", "none"),
    Case("info-type-choice", "kms_key_info", {"type": "dsa"}, r"value of type must be one of", "none"),
    Case("info-size-of-ed25519", "kms_key_info", {"type": "ed25519", "size": 256}, r"has no size", "none"),
    Case("info-tags-reserved", "kms_key_info", {"tags": ["_x"]}, r"must not start with '_'", "none"),
    # kms_audit options
    _audit("audit-action-choice", r"value of action must be one of", action="delete"),
    _audit("audit-limit-negative", r"limit must be 0", limit=-1),
    _audit("audit-limit-type", r"limit.*int", limit="lots"),
    _audit("audit-since-garbage", r"since must be an ISO 8601", since="yesterday"),
    _audit("audit-until-invalid-date", r"until", until="2026-13-45"),
    _audit("audit-since-bad-offset", r"since", since="2026-01-01T00:00:00+25:99"),
    _audit("audit-status-choice", r"value of status must be one of", status="broken"),
    _audit("audit-format-choice", r"value of format must be one of", action="export", dest="{tmp}/x.jsonl",
           format="xml"),
    _audit("audit-export-no-dest", r"dest", action="export"),
    _audit("audit-export-missing-dir", r"directory of dest", action="export", dest="{tmp}/no/such/folder/x.jsonl"),
    _audit("audit-export-dest-is-dir", r"is a directory", action="export", dest="{tmp}"),
    _audit("audit-newest-first-type", r"newest_first.*bool", newest_first="sideways"),
    _audit("audit-store-is-directory", r"audit store", audit_log="{tmp}"),
    # the real KMS says no, or holds something else under the name
    _keypair("kms-keypair-name-is-certificate", r"is a Certificate, not a key pair", "call", name="{ca}"),
    _certificate("kms-certificate-name-is-keypair", r"is a PrivateKey, not a certificate", "call", name="{pair}",
                 keypair="{pair2}"),
    _certificate("kms-issuer-not-certificate", r"issuer .* is a PrivateKey", "call", keypair="{pair2}",
                 issuer="{pair}"),
    _certificate("kms-issuer-missing", r"no certificate of this name", "call", keypair="{pair2}",
                 issuer="fault-{uid}-nothing"),
    _certificate("kms-keypair-missing", r"no key pair of this name", "call", provider="selfsigned", issuer=None,
                 keypair="fault-{uid}-nothing"),
    _certificate("kms-validity-beyond-issuer", r"would end after issuer", "call", keypair="{pair2}",
                 validity_days=365),
    _certificate("kms-keypair-revoked", r"only an Active key pair", "call", provider="selfsigned", issuer=None,
                 keypair="{revoked}"),
    _keypair("kms-revoke-missing-pair", r"no key pair named", "call", state="revoked"),
    Case("kms-revoke-missing-cert", "kms_certificate", {"name": "fault-{uid}-nothing", "state": "revoked"},
         r"no certificate named", "call"),
    _keypair("kms-size-mismatch", r"size is 2048, requested 4096", "call", name="{pair}", size=4096),
    _keypair("kms-tags-mismatch", r"tags are", "call", name="{pair}", tags=["other"]),
    _certificate("kms-subject-newline", r"subject.*CN", None, keypair="{pair_newline}",
                 subject={"CN": "fault\ninjected.example"}),
    _certificate("kms-subject-nul", r"subject.*\bO\b", None, keypair="{pair_nul}",
                 subject={"CN": "fault.example", "O": "Evil\x00Corp"}),
    Case("kms-lookup-certificate-of-keypair", "lookup", {"type": "certificate"}, r"PrivateKey|not a certificate",
         "call", terms=["{pair}"]),
    Case("kms-lookup-missing", "lookup", {}, r"not.found", "call", terms=["fault-{uid}-lookup-nothing"]),
    # not a KMS at the URL
    _http("http-html", "html", r"not JSON"),
    _http("http-empty", "empty", r"not JSON|empty"),
    _http("http-truncated", "truncated", r"not JSON"),
    _http("http-array", "array", r"TTLV"),
    _http("http-not-ttlv", "notttlv", r"TTLV"),
    _http("http-wrong-types", "wrongtypes", r"ActivationDate|DateTime|TTLV|unexpected answer"),
    _http("http-tag-not-text", "tagnottext", r"\btags?\b|unexpected answer"),
    _http("http-deep", "deep", r"nest|deep|JSON|TTLV"),
    _http("http-big", "big", r"too.large|too big|larger than|more than|exceeds|limit"),
    _http("http-redirect", "redirect", r"redirect"),
    _http("http-403", "forbidden", r"\b403\b"),
    _http("http-404", "notfound", r"\b404\b"),
    _http("http-500", "error", r"\b500\b.*\b2 attempts", attempts=2),
    _http("http-503", "unavailable", r"\b503\b.*\b2 attempts", attempts=2),
    _http("http-refused", None, r"\b2 attempts.*refused", attempts=2),
    _http("http-hang", "hang", r"\b2 attempts.*tim(e|ed) ?out", attempts=2, timeout=1),
    # TLS peers that must not be trusted, and TLS files that are not what they should be
    _tls("tls-wrong-name", "wrong_name", r"certificate|hostname|mismatch", ca_cert="{ca_file}"),
    _tls("tls-unknown-ca", "unknown_ca", r"certificate verify failed|unknown ca|local issuer", ca_cert="{ca_file}"),
    _tls("tls-unknown-ca-default-store", "unknown_ca", r"certificate verify failed|unknown ca|local issuer"),
    _tls("tls-ca-missing-file", "good", r"ca_cert", None, ca_cert="{tmp}/missing-ca.pem"),
    _tls("tls-client-cert-missing-file", "good", r"client_cert", None, ca_cert="{ca_file}",
         client_cert="{tmp}/missing-client.pem", client_key="{client_key}"),
    _tls("tls-client-key-missing-file", "good", r"client_key", None, ca_cert="{ca_file}", client_cert="{client_cert}",
         client_key="{tmp}/missing-client.key"),
    _tls("tls-ca-garbage", "good", BAD_CA_FILE, None, ca_cert="{bad_garbage}"),
    _tls("tls-ca-truncated", "good", BAD_CA_FILE, None, ca_cert="{bad_truncated}"),
    _tls("tls-ca-der", "good", BAD_CA_FILE, None, ca_cert="{bad_der}"),
    _tls("tls-ca-public-key", "good", BAD_CA_FILE, None, ca_cert="{bad_public_key}"),
    _tls("tls-ca-empty", "good", BAD_CA_FILE, None, ca_cert="{bad_empty}"),
    _tls("tls-client-cert-garbage", "good", r"client_cert|PEM|certificate|SSL", None, ca_cert="{ca_file}",
         client_cert="{bad_garbage}", client_key="{client_key}"),
]
CASE_IDS = [case.id for case in CASES]
CA_VALIDITY_DAYS = 30
CA_EXTENSIONS = "[v3_ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,crlSign\nsubjectKeyIdentifier=hash\n"


def _raw_client(url):
    return KmsClient(KmsTransport(url, timeout=60))


@pytest.fixture(scope="module")
def kms(kms_server):
    """A raw KMIP client of the session server, closed afterwards: an open keep-alive
    connection would hold the server's graceful shutdown back."""
    client = _raw_client(kms_server.url)
    yield client
    client.transport.close()


def _make_pair(client, name):
    return client.call(ops.create_key_pair(2048, private_key_id=name))


def _make_ca(client, name, days=CA_VALIDITY_DAYS):
    """A self-signed CA certificate ``name`` on a key pair ``name-key``, through raw KMIP."""
    pair = _make_pair(client, name + "-key")
    client.call(ops.certify(certificate_id=name, public_key_id=pair["public_key_id"], subject={"CN": "Fault CA " + name},
                            validity_days=days, extensions=CA_EXTENSIONS))
    return name


@pytest.fixture(scope="module")
def fault_run(kms_server, kms, tmp_path_factory):
    """Prerequisites on the KMS, the peers, one run of every case, and the KMS before/after."""
    folder = str(tmp_path_factory.mktemp("faults"))
    uid = uuid.uuid4().hex[:8]
    context = {"uid": uid, "tmp": folder, "refused": closed_port_url(), "ca": _make_ca(kms, "fault-%s-ca" % uid)}
    for role in ("pair", "pair2", "pair_dest", "pair_newline", "pair_nul", "revoked"):
        context[role] = "fault-%s-%s" % (uid, role.replace("_", "-"))
        _make_pair(kms, context[role])
    kms.call(ops.revoke(context["revoked"], "CessationOfOperation"))
    for kind, (path, text) in bad_csrs(folder).items():
        context["csr_%s" % kind] = path
        context["csr_%s_text" % kind] = text
    http = NotKmsServer()
    tls = TlsServers(folder)
    context.update(http=http.base, tls_good=tls.url("good"), tls_wrong_name=tls.url("wrong_name"),
                   tls_unknown_ca=tls.url("unknown_ca"), ca_file=tls.files["ca"], client_cert=tls.files["client_cert"],
                   client_key=tls.files["client_key"])
    context.update(("bad_%s" % kind, tls.files[kind]) for kind in ("garbage", "truncated", "der", "public_key", "empty"))
    env = {"KMS_URL": kms_server.url, "KMS_AUDIT_LOG": os.path.join(folder, "audit.db"),
           "KMS_AUDIT_JSONL": os.path.join(folder, "audit.jsonl")}
    before = kms_snapshot(kms)
    try:
        run = run_cases(CASES, context, env)
    finally:
        http.close()
        tls.close()
    after = kms_snapshot(kms)
    yield {"run": run, "context": context, "env": env, "changes": snapshot_changes(before, after), "hits": http.hits,
           "records": audit_rows(env["KMS_AUDIT_LOG"]), "files": store_files(folder)}


def _case_records(fault_run, case):
    names = case.names(fault_run["context"])
    if case.module == "lookup":
        return [r for r in fault_run["records"] if r["task"] is None and r["entity_id"] in names]
    return [r for r in fault_run["records"] if r["task"] == case.id]


@IN_FAULT_RUN
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_case_fails_cleanly(fault_run, case):
    result = case_result(fault_run["run"], case)
    check_clean_failure(case, result)
    records = _case_records(fault_run, case)
    check_audit(case, result, records)
    prerequisites = set(v for k, v in fault_run["context"].items() if k in ("ca", "pair", "pair2", "revoked"))
    created = [n for n in case.names(fault_run["context"]) if n not in prerequisites
               and any(object_id.startswith(n) for object_id in fault_run["changes"])]
    assert not created, "%s created %s on the KMS" % (case.id, created)
    leaks = secret_leaks(SECRETS, {"result": json.dumps(result, ensure_ascii=False), "audit": json.dumps(records)})
    assert not leaks, "%s: %s" % (case.id, leaks)


@IN_FAULT_RUN
def test_nothing_created_or_changed_on_the_kms(fault_run):
    assert fault_run["changes"] == {}, "objects created or changed by the fault cases: %s" % fault_run["changes"]


@IN_FAULT_RUN
def test_no_secret_in_any_output_or_audit_record(fault_run):
    texts = dict(fault_run["files"], output=fault_run["run"].output,
                 results=json.dumps(fault_run["run"].records, ensure_ascii=False))
    leaks = secret_leaks(SECRETS, texts)
    assert not leaks, "\n".join("%r as %r in %s: ...%s..." % leak for leak in leaks[:20])


@IN_FAULT_RUN
def test_hanging_server_timeout_is_honoured_and_retried(fault_run):
    """timeout=1, retries=2: two requests reached the server, the second after the first
    timed out (1 s) and the backoff (1 s), well before any default timeout."""
    hits = fault_run["hits"].get("hang", [])
    assert len(hits) == 2, hits
    assert 1.5 <= hits[1] - hits[0] <= 10, hits[1] - hits[0]


@IN_FAULT_RUN
def test_the_non_kms_answers_were_retried_only_when_they_should(fault_run):
    """5xx are retried (2 attempts), then /health is asked once (is the database down?);
    other answers are final (1 request each, no /health)."""
    hits = dict((mode, len(times)) for mode, times in fault_run["hits"].items())
    assert hits.get("error") == 2 and hits.get("unavailable") == 2, hits
    assert hits.get("error/health") == 1 and hits.get("unavailable/health") == 1, hits
    for mode in ("html", "truncated", "array", "notttlv", "redirect", "forbidden", "notfound"):
        assert hits.get(mode) == 1 and mode + "/health" not in hits, (mode, hits)


@IN_FAULT_RUN
def test_the_lookup_never_fetches_a_private_key(fault_run):
    """kms_pem type=certificate given a key pair's name stops at its type (GetAttributes)."""
    case = CASES[CASE_IDS.index("kms-lookup-certificate-of-keypair")]
    records = _case_records(fault_run, case)
    assert records, "the lookup left no audit record"
    assert not [r for r in records if r["operation"] == "kms.get"], [(r["operation"], r["status"]) for r in records]


@IN_FAULT_RUN
def test_audit_chain_of_the_run_verifies(fault_run):
    outcome = AuditTrail(fault_run["env"]["KMS_AUDIT_LOG"]).verify()
    assert outcome["valid"] and outcome["records"] == len(fault_run["records"]), outcome
    with open(fault_run["env"]["KMS_AUDIT_JSONL"]) as handle:
        mirrored = [json.loads(line)["hash"] for line in handle if line.strip()]
    assert mirrored == [r["hash"] for r in fault_run["records"]]


# -- the audit store: read-only, corrupted, full --------------------------------------------

STORE_CASES = ("store-readonly-write", "store-readonly-read", "store-garbage-write", "store-garbage-read",
               "store-truncated-write", "store-truncated-read", "store-version-zero-write",
               "store-version-zero-read", "store-full-existing", "store-full-new", "store-is-directory")
# The stores on a tmpfs of their own, and its size.
MOUNTS = {"readonly": "1m", "full-existing": "512k", "full-new": "64k"}
TRUNCATED_RECORDS = 120


def _mount(folder, size):
    """Mount a tmpfs of ``size`` on ``folder``; None, or why it could not be done."""
    os.makedirs(folder)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s" % size, "tmpfs", folder], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    if done.returncode:
        return "mount -t tmpfs refused (the test needs root and CAP_SYS_ADMIN): %s" % done.stdout.strip()
    return None


def _seed(path, records=1, jsonl=None):
    with AuditTrail(path, jsonl_path=jsonl) as trail:
        for index in range(records):
            trail.record("kms.seed", "test", "seed-%d" % index, "success", {"pad": "x" * 200})


def _fill(folder):
    try:
        with open(os.path.join(folder, "filler"), "wb") as handle:
            while True:
                handle.write(b"\0" * 4096)
                handle.flush()
    except OSError:
        pass


@pytest.fixture(scope="module")
def store_run(kms_server, kms, tmp_path_factory):
    """One store per fault (tmpfs mounts where needed), then one run of a writer and a
    reader on each; unmounted afterwards."""
    folder = str(tmp_path_factory.mktemp("stores"))
    uid = uuid.uuid4().hex[:8]
    stores, skipped, mounts = {}, {}, []
    for kind, size in sorted(MOUNTS.items()):
        mount = os.path.join(folder, kind)
        skipped[kind] = _mount(mount, size)
        if skipped[kind] is None:
            mounts.append(mount)
        stores[kind] = os.path.join(mount, "audit.db")
    try:
        if not skipped["readonly"]:
            _seed(stores["readonly"])
            subprocess.run(["mount", "-o", "remount,ro", os.path.join(folder, "readonly")], check=True)
        if not skipped["full-existing"]:
            _seed(stores["full-existing"], jsonl=os.path.join(folder, "full-existing", "audit.jsonl"))
            _fill(os.path.join(folder, "full-existing"))
        for kind in ("garbage", "truncated", "version-zero"):
            stores[kind] = os.path.join(folder, kind, "audit.db")
            os.makedirs(os.path.dirname(stores[kind]))
        with open(stores["garbage"], "wb") as handle:
            handle.write(b"this is not an SQLite database, just junk\n" * 100)
        _seed(stores["truncated"], records=TRUNCATED_RECORDS)
        with open(stores["truncated"], "r+b") as handle:
            handle.truncate(os.path.getsize(stores["truncated"]) // 2)
        _seed(stores["version-zero"], records=3)
        connection = sqlite3.connect(stores["version-zero"])
        connection.execute("PRAGMA user_version = 0")
        connection.close()
        stores["directory"] = os.path.join(folder, "a-folder")
        os.makedirs(stores["directory"])
        tasks = dict((case_id, _store_case(case_id, stores, uid)) for case_id in STORE_CASES)
        tasks = dict((k, v) for k, v in tasks.items() if not skipped.get(_store_kind(k)))
        before = kms_snapshot(kms)
        run = run_cases(list(tasks.values()), {}, {"KMS_URL": kms_server.url})
        after = kms_snapshot(kms)
        yield {"run": run, "cases": tasks, "skipped": skipped, "client": kms, "changes": snapshot_changes(before, after)}
    finally:
        for mount in mounts:
            subprocess.run(["umount", "-l", mount], check=False)


def _store_case(case_id, stores, uid):
    """store-<kind>-read: kms_audit verify; the others: kms_keypair writing to the store."""
    if case_id.endswith(("-write", "-read")):
        kind = case_id[len("store-"):].rsplit("-", 1)[0]
    else:
        kind = {"store-full-existing": "full-existing", "store-full-new": "full-new",
                "store-is-directory": "directory"}[case_id]
    if case_id.endswith("-read"):
        return Case(case_id, "kms_audit", {"action": "verify", "audit_log": stores[kind]}, "")
    return Case(case_id, "kms_keypair", {"name": "fault-%s-%s" % (uid, case_id), "size": 2048,
                                         "audit_log": stores[kind]}, r"audit")


def _store_kind(case_id):
    for kind in MOUNTS:
        if case_id.startswith("store-" + kind):
            return kind
    return None


@IN_STORE_RUN
@pytest.mark.parametrize("case_id", STORE_CASES)
def test_audit_store_fault(store_run, case_id):
    reason = store_run["skipped"].get(_store_kind(case_id))
    if reason:
        pytest.skip(reason)
    case = store_run["cases"][case_id]
    result = case_result(store_run["run"], case)
    store = case.args["audit_log"]
    if case.module == "kms_keypair":
        check_clean_failure(case, result)
        assert store in result["msg"] or os.path.dirname(store) in result["msg"], result["msg"]
        name = case.args["name"]
        assert not exists(store_run["client"], name), "%s: created %s with a broken audit store" % (case_id, name)
        assert not [i for i in store_run["changes"] if i.startswith(name)], store_run["changes"]
    elif result["_status"] == "ok":
        # Reading may succeed only with the truth: every seeded record, the chain valid --
        # or the store said broken.
        seeded = {"store-readonly-read": 1, "store-truncated-read": TRUNCATED_RECORDS,
                  "store-version-zero-read": 3}[case_id]
        assert not result["valid"] or result["count"] == seeded, result
        if case_id != "store-readonly-read":
            assert not result["valid"], "%s: a damaged store verified as valid: %s" % (case_id, result)
    else:
        check_clean_failure(Case(case_id, "kms_audit", {}, r"audit|store"), result)
        assert store in result["msg"], result["msg"]
    if case_id == "store-full-existing":
        _check_mirror_not_ahead(store, os.path.join(os.path.dirname(store), "audit.jsonl"))


def _check_mirror_not_ahead(store, mirror):
    """Every JSON line of the mirror is a committed record of the store (nothing rolled back)."""
    os.remove(os.path.join(os.path.dirname(store), "filler"))
    committed = set(r["hash"] for r in audit_rows(store))
    with open(mirror) as handle:
        lines = [json.loads(line)["hash"] for line in handle if line.strip()]
    assert set(lines) <= committed, "mirror lines without a committed record: %s" % (set(lines) - committed)


# -- credentials from the environment ---------------------------------------------------------

ENV_CASES = [
    _keypair("env-keypair", r"api_key|KMS_API_KEY"),
    Case("env-certificate", "kms_certificate", {"name": "fault-{uid}-env-cert", "state": "absent"},
         r"api_key|KMS_API_KEY", "none"),
    Case("env-lookup", "lookup", {}, r"api_key|KMS_API_KEY", "none", terms=["fault-{uid}-env-lookup"]),
]


def test_api_key_with_a_newline_in_the_environment_is_refused_and_never_shown(kms_server, tmp_path, kms):
    env = {"KMS_URL": kms_server.url, "KMS_API_KEY": ENV_KEY, "KMS_AUDIT_LOG": str(tmp_path / "audit.db"),
           "KMS_AUDIT_JSONL": str(tmp_path / "audit.jsonl")}
    context = {"uid": uuid.uuid4().hex[:8]}
    before = kms_snapshot(kms)
    run = run_cases(ENV_CASES, context, env)
    assert snapshot_changes(before, kms_snapshot(kms)) == {}
    for case in ENV_CASES:
        check_clean_failure(case, case_result(run, case))
    assert audit_rows(env["KMS_AUDIT_LOG"]) == []
    texts = dict(store_files(str(tmp_path)), output=run.output, results=json.dumps(run.records, ensure_ascii=False))
    assert not secret_leaks([ENV_KEY], texts)


# -- odd but legal subjects: issued exactly as asked, or refused clearly ----------------------

ODD_SUBJECTS = {
    "odd-subject-unicode": "Z\u00fcrich \u00dcn\u00efc\u00f8d\u00e9 \u6771\u4eac",
    "odd-subject-separators": "a, b = c + d; e",
    "odd-subject-quotes": "O'Brien \"Q\" <x>",
    "odd-subject-slashes": "back\\slash/slash#hash",
    "odd-subject-spaces": "  lead and trail  ",
}


def test_odd_subject_characters_are_kept_exactly_or_refused(kms_server, tmp_path, kms):
    uid = uuid.uuid4().hex[:8]
    ca = _make_ca(kms, "fault-%s-odd-ca" % uid, days=365)
    cases = []
    for case_id, value in sorted(ODD_SUBJECTS.items()):
        pair = _make_pair(kms, "fault-%s-%s-key" % (uid, case_id))["private_key_id"]
        cases.append(Case(case_id, "kms_certificate", {
            "name": "fault-%s-%s" % (uid, case_id), "provider": "kms_ca", "keypair": pair, "issuer": ca,
            "subject": {"CN": value, "O": value}, "validity_days": 10}, r"subject", None))
    run = run_cases(cases, {}, {"KMS_URL": kms_server.url, "KMS_AUDIT_LOG": str(tmp_path / "audit.db")}, verbosity=None)
    for case in cases:
        result = case_result(run, case)
        if result["_status"] == "ok":
            assert result["subject"] == case.args["subject"], "%s: asked %r, issued %r" % (
                case.id, case.args["subject"], result["subject"])
        else:
            check_clean_failure(case, result)
            assert not exists(kms, case.args["name"])


# -- the server killed and restarted in the middle of 20 key pairs ----------------------------

PAIRS = 20


def _creates(path):
    return [r for r in audit_rows(path) if r["operation"] == "kms.create_key_pair" and r["status"] == "success"]


def test_server_killed_and_restarted_in_the_middle_of_twenty_key_pairs(fresh_kms_server, tmp_path):
    """20 hosts each make the key pair of their name, four at a time; once five pairs exist
    the server gets SIGKILL, and starts again 2 s later on the same data. Calls caught by
    the outage fail cleanly and audited; the rerun completes; the KMS holds exactly the 20
    pairs, none created twice, and the chain verifies."""
    server = fresh_kms_server
    names = ["restart-%02d" % index for index in range(PAIRS)]
    env = {"KMS_URL": server.url, "KMS_AUDIT_LOG": str(tmp_path / "audit.db")}
    task = {"name": "pair", "ignore_errors": True,
            "pkimanager.kms.kms_keypair": {"name": "{{ inventory_hostname }}", "size": 2048, "retries": 2,
                                           "timeout": 10}}
    outcome = []
    first = threading.Thread(target=lambda: outcome.append(run_playbook([task], hosts=names, extra_env=env, forks=4)))
    first.start()
    deadline = time.monotonic() + 120
    while len(_creates(env["KMS_AUDIT_LOG"])) < 5 and first.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    server.process.send_signal(signal.SIGKILL)
    server.process.wait()
    time.sleep(2)
    server.start()
    first.join(300)
    assert outcome, "the first run did not finish"
    first_results = dict((name, outcome[0].result("pair", name)) for name in names)
    caught = sorted(name for name, result in first_results.items() if result["_status"] == "failed")
    print("first run: %d of %d pairs failed in the outage: %s" % (len(caught), PAIRS, caught))

    rerun = run_playbook([task], hosts=names, extra_env=env, forks=4)
    results = dict((name, rerun.result("pair", name)) for name in names)
    assert [n for n, r in sorted(results.items()) if r["_status"] != "ok"] == [], rerun.output[-3000:]
    assert sorted(r["private_key_id"] for r in results.values()) == names

    client = _raw_client(server.url)
    try:
        assert sorted(client.call(ops.locate(object_type="PrivateKey"))) == names
        assert len(client.call(ops.locate(object_type="PublicKey"))) == PAIRS
    finally:
        client.transport.close()
    # One successful create record per pair; the only exception is a pair whose create the
    # server committed just before SIGKILL took its answer (and every retry) away: that
    # create is audited as failed in the first run, and the rerun finds the pair.
    creates = sorted(r["entity_id"] for r in _creates(env["KMS_AUDIT_LOG"]))
    assert len(creates) == len(set(creates)), "a pair was created twice: %s" % creates
    missing = [name for name in names if name not in creates]
    assert all(first_results[name]["_status"] == "failed" for name in missing), (
        "pairs without a successful create record that the first run did not fail: %s" % missing)
    rows = audit_rows(env["KMS_AUDIT_LOG"])
    for name, result in sorted(first_results.items()):
        if result["_status"] == "failed":
            check_clean_failure(Case(name, "kms_keypair", {}, r"."), result)
            # The outage may hit the pair's read-back too: the Get of its public key (<name>_pk).
            mine = [r for r in rows if r["entity_id"] in (name, result["kms_error"].get("object_id"))]
            assert records_of_error(mine, result["kms_error"]), "the failure of %s is not audited: %s %s" % (
                name, result["kms_error"], [(r["operation"], r["status"], r["details"]) for r in mine])
    assert AuditTrail(env["KMS_AUDIT_LOG"]).verify()["valid"]


def test_the_case_table_is_sound():
    """At least 40 cases, unique host-safe ids, and each in the table of this docstring."""
    assert len(CASES) + len(STORE_CASES) + len(ENV_CASES) + len(ODD_SUBJECTS) + 1 >= 40
    assert len(set(CASE_IDS)) == len(CASE_IDS)
    assert all(re.match(r"^[a-z0-9-]+$", case_id) for case_id in CASE_IDS)
    assert [case_id for case_id in CASE_IDS + list(STORE_CASES) if case_id not in __doc__] == []
