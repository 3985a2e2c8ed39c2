#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, pkimanager maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: kms_audit
short_description: Query, verify, summarise and export the local audit trail of KMS operations
version_added: 0.1.0
description:
  - Reads the audit trail that the modules of this collection write, one record per KMS call,
    on the host they run on. It does not talk to the KMS.
  - O(action=query) returns records, O(action=summary) counts them per operation and status
    (V(success), V(not_found), V(failure)),
    O(action=verify) checks the hash chain of the whole trail, and O(action=export) writes
    records to a file.
  - A missing store is read as an empty one (with a warning); this module never creates it.
  - A store whose schema version contradicts its content (for example C(PRAGMA user_version)
    reset to 0 while it holds records) is damaged. O(action=verify) reports it with
    RV(valid=false) and RV(problem); the other actions fail naming the problem; nothing is
    re-created or read as empty.
  - The connection options (O(kms_url), O(api_key), ...) and O(audit_jsonl) are accepted only so
    that C(module_defaults) of C(group/pkimanager.kms.kms) apply to this module as well; they are
    ignored.
author:
  - pkimanager maintainers (@pkimanager)
extends_documentation_fragment:
  - pkimanager.kms.connection.ignored
  - pkimanager.kms.audit
  - ansible.builtin.files
attributes:
  check_mode:
    support: full
    description: O(action=export) reports whether it would change O(dest) and writes nothing; the other actions only read.
  diff_mode:
    support: none
    description: The exported file is not shown as a diff; RV(rows) says how many records it holds.
options:
  audit_jsonl:
    description:
      - Ignored; this module reads O(audit_log) only, never the JSON-lines mirror. Accepted only so
        that C(module_defaults) of C(group/pkimanager.kms.kms) apply to this module.
      - To write the mirror again from the store, use O(action=export) with O(format=jsonl).
    type: path
  action:
    description:
      - V(query) returns the matching records in RV(records).
      - V(summary) returns counts per operation and status of the matching records in RV(summary).
      - V(verify) checks the hash chain of every record (the filters do not apply) and returns
        RV(valid), RV(first_broken) and RV(problem).
      - V(export) writes the matching records, oldest first, to O(dest) in O(format).
    type: str
    choices: [query, verify, export, summary]
    default: query
  operation:
    description:
      - Only records of this operation, for example V(kms.create_key_pair).
    type: str
  entity_type:
    description:
      - Only records about this type of entity, for example V(key_pair), V(private_key) or V(certificate).
    type: str
  entity_id:
    description:
      - Only records about the entity with this id.
    type: str
  status:
    description:
      - Only records with this status.
      - V(success) is a KMS call that did what it was asked.
      - V(not_found) is a read (C(Get), C(GetAttributes), C(Locate), ...) that the KMS answered
        with C(Object_Not_Found) or C(Item_Not_Found), such as the existence check a module
        makes before it creates an object. It is a finding, not a failure.
      - V(failure) is any other failed call, including a not-found answer to an operation
        that changes something (C(Revoke), C(Destroy), ...).
    type: str
    choices: [success, not_found, failure]
  operation_id:
    description:
      - Only records of one module run (all its KMS calls share this id).
    type: str
  since:
    description:
      - Only records written at or after this time, in ISO 8601, for example V(2026-11-28) or
        V(2026-11-28T12:00:00+01:00). A time without an offset is UTC.
    type: str
  until:
    description:
      - Only records written before this time, in the same format as O(since).
    type: str
  limit:
    description:
      - Maximum number of records O(action=query) returns; V(0) returns all of them.
      - O(action=export) always writes every matching record.
    type: int
    default: 100
  newest_first:
    description:
      - Whether O(action=query) returns the newest records first.
      - O(action=export) always writes records oldest first, in chain order.
    type: bool
    default: true
  dest:
    description:
      - File O(action=export) writes. It is only replaced when its content differs, atomically.
      - File attributes such as O(mode) apply to it. Without O(mode), it gets mode C(0600), as
        private as the audit store, whether it is new or already there.
      - Required with O(action=export).
    type: path
  format:
    description:
      - Format of O(dest).
      - V(jsonl) writes one JSON object per line, exactly as hashed; an export without filters
        can be checked offline, since each line's V(hash) is the SHA-256 of the line without
        its V(hash) key, serialised with sorted keys and compact separators.
      - V(csv) writes a header line, then one line per record, with V(details) as JSON.
    type: str
    choices: [jsonl, csv]
    default: jsonl
  fail_on_broken:
    description:
      - Whether O(action=verify) fails when the chain is broken or the store damaged, instead of
        returning RV(valid=false).
    type: bool
    default: false
seealso:
  - module: pkimanager.kms.kms_keypair
"""

EXAMPLES = r"""
- name: Last 20 failed KMS operations on this host
  pkimanager.kms.kms_audit:
    status: failure
    limit: 20
  register: failures

- name: Reads that found no object (existence checks before a create, among others)
  pkimanager.kms.kms_audit:
    status: not_found

- name: Everything done to one key pair, oldest first
  pkimanager.kms.kms_audit:
    entity_id: web-signing
    newest_first: false
    limit: 0

- name: Check that no record was edited, deleted or reordered
  pkimanager.kms.kms_audit:
    action: verify
    fail_on_broken: true

- name: Operations of today, per operation and status
  pkimanager.kms.kms_audit:
    action: summary
    since: "{{ now(utc=true).strftime('%Y-%m-%d') }}"
  register: today

- name: Show the summary as a table
  ansible.builtin.debug:
    var: today.summary.table

- name: Export the whole trail for archiving (only rewritten when it changed)
  pkimanager.kms.kms_audit:
    action: export
    dest: /var/backups/kms-audit.jsonl
    mode: "0640"

- name: Export the failures of November as CSV, from a store shared through the environment
  pkimanager.kms.kms_audit:
    action: export
    format: csv
    status: failure
    since: 2026-11-01
    until: 2026-12-01
    dest: /tmp/kms-failures.csv
  environment:
    KMS_AUDIT_LOG: /srv/pki/audit.db
"""

RETURN = r"""
audit_log:
  description: Path of the audit store that was read.
  returned: always
  type: str
  sample: /home/pki/.local/state/pkimanager-kms/audit.db
records:
  description: The matching records, newest first unless O(newest_first=false).
  returned: when O(action=query)
  type: list
  elements: dict
  contains:
    record_id:
      description: Position of the record in the chain, from 1.
      type: int
      sample: 42
    operation_id:
      description: Id shared by the records of one module run.
      type: str
      sample: 0b7c3f9e-6d0a-4c8e-9a51-1f8d2f1b3c77
    timestamp:
      description: When the record was written, UTC with milliseconds.
      type: str
      sample: "2026-11-28T12:00:00.123Z"
    operation:
      description: The KMS operation.
      type: str
      sample: kms.create_key_pair
    entity_type:
      description: What the operation was about.
      type: str
      sample: key_pair
    entity_id:
      description: Id of the entity in the KMS.
      type: str
      sample: web-signing
    status:
      description:
        - V(success), V(not_found) (a read answered that the object does not exist) or
          V(failure); see O(status).
      type: str
      sample: success
    details:
      description:
        - What the operation returned or, for V(not_found) and V(failure), the error V(reason)
          and V(message). Never secrets.
      type: dict
      sample: {"result": {"private_key_id": "web-signing", "public_key_id": "b1e0..."}}
    kms_url:
      description: URL of the KMS, without any user:password@ part.
      type: str
      sample: https://kms.example.com
    user:
      description: User the module ran as.
      type: str
      sample: pki
    host:
      description: Host name the module ran on.
      type: str
      sample: pki01
    playbook:
      description:
        - Playbook file that ran the module (filled in by the collection's action plugins);
          null for ad-hoc runs and for records whose writer was not told.
      type: str
      sample: /srv/pki/playbooks/provision.yml
    task:
      description: Name of the task that ran the module (or the label its C(audit_context) option set).
      type: str
      sample: Root CA key pair
    prev_hash:
      description: Hash of the previous record; 64 zeros for the first.
      type: str
    hash:
      description: SHA-256 of every other field of the record, its C(prev_hash) included.
      type: str
count:
  description:
    - Number of records returned (O(action=query)), checked (O(action=verify)) or counted (O(action=summary)).
  returned: when O(action) is V(query), V(verify) or V(summary)
  type: int
  sample: 3
valid:
  description: Whether the hash chain of every record is intact.
  returned: when O(action=verify)
  type: bool
  sample: true
problem:
  description:
    - What is wrong with the store as a whole, when its schema version contradicts its content
      (for example C(PRAGMA user_version) reset to 0 while the records table exists); null
      otherwise. The records are still checked and counted when the table is there.
  returned: when O(action=verify)
  type: str
  sample: null
first_broken:
  description: The first record where the chain breaks, and why; null when the chain is intact.
  returned: when O(action=verify)
  type: dict
  contains:
    record_id:
      description: Id of the record.
      type: int
      sample: 17
    reason:
      description: What is wrong with it.
      type: str
      sample: hash does not match the record's content (edited after it was written)
last_record_id:
  description: Id of the newest record; null for an empty trail.
  returned: when O(action=verify)
  type: int
  sample: 120
last_hash:
  description:
    - Hash of the newest record (64 zeros for an empty trail). Keep it elsewhere to detect a later
      rewrite of the whole trail, which the chain alone cannot reveal.
  returned: when O(action=verify)
  type: str
  sample: 9f2c6d0e4b8a1f37c5e2d9a0b6c4e8f1a3d5b7c9e0f2a4c6e8b0d2f4a6c8e0b2
summary:
  description: Counts of the matching records.
  returned: when O(action=summary)
  type: dict
  contains:
    total:
      description: Number of matching records.
      type: int
      sample: 14
    success:
      description: Number of them that succeeded.
      type: int
      sample: 11
    not_found:
      description: Number of reads among them that found no object (expected by existence checks).
      type: int
      sample: 2
    failure:
      description: Number of them that failed.
      type: int
      sample: 1
    operations:
      description: Per operation, its V(success), V(not_found), V(failure) and V(total) counts.
      type: dict
      sample: {"kms.create_key_pair": {"success": 3, "not_found": 0, "failure": 1, "total": 4}}
    first:
      description: Timestamp of the oldest matching record; null when there is none.
      type: str
      sample: "2026-11-28T12:00:00.123Z"
    last:
      description: Timestamp of the newest matching record; null when there is none.
      type: str
      sample: "2026-11-28T12:30:00.456Z"
    table:
      description: The counts as aligned lines of text, for C(ansible.builtin.debug).
      type: list
      elements: str
      sample:
        - "operation            success  not_found  failure    total"
        - "kms.create_key_pair        3          0        1        4"
        - "kms.get_attributes         0          2        0        2"
        - "all operations             3          2        1        6"
dest:
  description: The exported file.
  returned: when O(action=export)
  type: str
  sample: /var/backups/kms-audit.jsonl
rows:
  description: Number of records in the exported file.
  returned: when O(action=export)
  type: int
  sample: 120
"""

import filecmp
import os
import tempfile

from ansible_collections.pkimanager.kms.plugins.module_utils import compile_once  # noqa: F401  pylint: disable=unused-import  # first: see its doc
from ansible.module_utils.basic import AnsibleModule

from ansible_collections.pkimanager.kms.plugins.module_utils.audit import (
    EXPORT_FORMATS,
    FILTER_COLUMNS,
    STATUSES,
    AuditError,
    AuditTrail,
)
from ansible_collections.pkimanager.kms.plugins.module_utils.options import AuditOptions, ConnectionOptions

FILTERS = FILTER_COLUMNS + ("since", "until")
EXPORT_MODE = 0o600


def argument_spec():
    # The connection options and audit_jsonl are accepted (and ignored) for module_defaults of
    # the action group: ansible-core fails a module given an option it does not take.
    spec = ConnectionOptions.ignored_argument_spec()
    spec.update(AuditOptions.argument_spec())
    spec.update(
        action=dict(type="str", choices=["query", "verify", "export", "summary"], default="query"),
        operation=dict(type="str"),
        entity_type=dict(type="str"),
        entity_id=dict(type="str"),
        status=dict(type="str", choices=list(STATUSES)),
        operation_id=dict(type="str"),
        since=dict(type="str"),
        until=dict(type="str"),
        limit=dict(type="int", default=100),
        newest_first=dict(type="bool", default=True),
        dest=dict(type="path"),
        format=dict(type="str", choices=list(EXPORT_FORMATS), default="jsonl"),
        fail_on_broken=dict(type="bool", default=False),
    )
    return spec


def query(module, trail, filters):
    records = trail.query(limit=module.params["limit"], newest_first=module.params["newest_first"], **filters)
    return dict(records=records, count=len(records))


def verify(module, trail, filters):
    if any(value is not None for value in filters.values()):
        module.warn("action=verify checks the whole chain; the filters were ignored")
    outcome = trail.verify()
    result = dict(valid=outcome["valid"], first_broken=outcome["first_broken"], count=outcome["records"],
                  last_record_id=outcome["last_record_id"], last_hash=outcome["last_hash"])
    result["problem"] = outcome["problem"]
    if not outcome["valid"] and module.params["fail_on_broken"]:
        broken = outcome["first_broken"]
        if outcome["problem"]:
            msg = "The audit trail is broken: %s" % outcome["problem"]
        else:
            msg = "The audit trail %s is broken at record %d: %s" % (trail.path, broken["record_id"], broken["reason"])
        module.fail_json(msg=msg, audit_log=trail.path, **result)
    return result


def summary(module, trail, filters):
    counts = trail.summary(**filters)
    return dict(summary=counts, count=counts["total"])


def export(module, trail, filters):
    """Export to a temporary file and replace O(dest) only when the content differs.

    O(dest) is private like the store unless O(mode) says otherwise: created 0600 (no
    moment with the umask's mode), and set to 0600 when O(mode) is not given.
    """
    dest = module.params["dest"]
    if os.path.isdir(dest):
        module.fail_json(msg="dest %s is a directory; give the path of the file to write" % dest)
    if not module.check_mode and not os.path.isdir(os.path.dirname(dest)):
        module.fail_json(msg="the directory of dest %s does not exist" % dest)
    fd, exported = tempfile.mkstemp(dir=module.tmpdir, prefix="kms_audit-", suffix="." + module.params["format"])
    os.close(fd)
    try:
        rows = trail.export(exported, fmt=module.params["format"], **filters)
        changed = not (os.path.isfile(dest) and filecmp.cmp(exported, dest, shallow=False))
        if changed and not module.check_mode:
            # atomic_move gives a new file the umask's mode: make that 0600.
            umask = os.umask(0o077)
            try:
                module.atomic_move(exported, dest, unsafe_writes=module.params["unsafe_writes"])
            finally:
                os.umask(umask)
    finally:
        if os.path.exists(exported):
            os.remove(exported)
    file_args = module.load_file_common_arguments(module.params, path=dest)
    if file_args.get("mode") is None:
        file_args["mode"] = EXPORT_MODE
    if os.path.exists(dest):
        changed = module.set_fs_attributes_if_different(file_args, changed)
    return dict(changed=changed, dest=dest, rows=rows)


ACTIONS = dict(query=query, verify=verify, summary=summary, export=export)


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True, add_file_common_args=True,
                           required_if=[("action", "export", ["dest"])])
    if module.params["limit"] < 0:
        module.fail_json(msg="limit must be 0 (no limit) or more, got %d" % module.params["limit"])
    trail = AuditTrail(module.params["audit_log"])
    if not os.path.exists(trail.path):
        module.warn("The audit store %s does not exist: no KMS operation was recorded there yet" % trail.path)
    filters = dict((name, module.params[name]) for name in FILTERS)
    try:
        with trail:
            result = dict(changed=False, audit_log=trail.path)
            result.update(ACTIONS[module.params["action"]](module, trail, filters))
    except AuditError as exc:
        module.fail_json(msg=str(exc), audit_log=trail.path)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
