"""The server build from a cold cache, on every run: the cheap part of it for real, the rest
by checking that the cached binaries come from the pinned version and the current recipe.

Why: green CI runs once hid a broken cold build because they reused a cache an earlier
version of kms/build-server had filled. The OpenSSL step (a few minutes) is what broke, so
it runs here into an empty prefix; the Rust build (about 20 minutes) stays cached, and
kms/build-server rebuilds it whenever kms/server-recipe or kms/VERSION changes.
"""

import hashlib
import os
import re
import subprocess

import pytest

from kms_server import REPO, bin_dir, pinned_version

BUILD_SERVER = os.path.join(REPO, "kms", "build-server")


def recipe_value(name):
    """A scalar or array assignment of kms/server-recipe, read by bash itself."""
    script = 'source "%s" && printf "%%s\\n" "${%s[@]}"' % (os.path.join(REPO, "kms", "server-recipe"), name)
    return subprocess.run(["bash", "-c", script], check=True, stdout=subprocess.PIPE,
                          universal_newlines=True).stdout.split()


@pytest.mark.slow
def test_openssl_step_builds_from_an_empty_prefix(tmp_path):
    """The cold OpenSSL step leaves a prefix holding what the server's build reads
    (OPENSSL_DIR), of the pinned OpenSSL version, and nothing half-made beside it."""
    cache = tmp_path / "cache"
    prefix = tmp_path / "openssl"
    run = subprocess.run([BUILD_SERVER, "--openssl-only", str(prefix)], env=dict(os.environ, PKIMANAGER_KMS_CACHE=str(cache)),
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    assert run.returncode == 0, run.stdout[-4000:]
    for path in recipe_value("openssl_required_paths"):
        assert (prefix / path).exists(), "the OpenSSL step did not produce %s" % path
    for library in ("libcrypto.a", "libssl.a"):
        assert (prefix / "lib" / library).stat().st_size > 100000
    header = (prefix / "include" / "openssl" / "opensslv.h").read_text()
    wanted = recipe_value("openssl_src_version")[0].split("+")[1]
    assert re.search(r'#\s*define OPENSSL_FULL_VERSION_STR "%s"' % re.escape(wanted), header)
    # Scratch and staging folders are gone: only what a later run may reuse is left.
    assert sorted(entry.name for entry in cache.iterdir()) == []
    # A progress line per step, so a cold build is never minutes of silence.
    assert "step 1/3: OpenSSL" in run.stdout and "OpenSSL installed in %s" % prefix in run.stdout


def test_openssl_step_refuses_to_overwrite(tmp_path):
    """An existing prefix is never built over: a finished one is reused by its name only."""
    run = subprocess.run([BUILD_SERVER, "--openssl-only", str(tmp_path)], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    assert run.returncode != 0 and "exists already" in run.stdout


def test_cached_binaries_come_from_the_pinned_version_and_this_recipe():
    """kms/build-server --check accepts the cache only when the digest stored next to the
    binaries is that of kms/VERSION and kms/server-recipe as they are now."""
    prefix = os.path.dirname(bin_dir())
    check = subprocess.run([BUILD_SERVER, "--check"], stdout=subprocess.PIPE, universal_newlines=True, check=False)
    assert check.returncode == 0 and check.stdout.strip() == prefix
    with open(os.path.join(REPO, "kms", "VERSION"), "rb") as version, \
            open(os.path.join(REPO, "kms", "server-recipe"), "rb") as recipe:
        digest = hashlib.sha256(version.read() + recipe.read()).hexdigest()
    with open(os.path.join(prefix, "recipe.sha256")) as stored:
        assert stored.read().strip() == digest
    for binary in ("cosmian_kms", "ckms"):
        reported = subprocess.run([os.path.join(prefix, "bin", binary), "--version"], check=True,
                                  stdout=subprocess.PIPE, universal_newlines=True).stdout
        assert pinned_version() in reported, (binary, reported)


def test_a_cache_of_another_recipe_is_not_used(tmp_path):
    """Binaries whose stored digest differs (or is missing) do not pass --check, so the
    next build-server run rebuilds instead of serving them."""
    cache = tmp_path / "cache"
    prefix = cache / pinned_version()
    (prefix / "bin").mkdir(parents=True)
    for binary in ("cosmian_kms", "ckms"):
        (prefix / "bin" / binary).write_text("#!/bin/sh\n")
        (prefix / "bin" / binary).chmod(0o755)
    env = dict(os.environ, PKIMANAGER_KMS_CACHE=str(cache))
    for stored in (None, "0" * 64):
        if stored:
            (prefix / "recipe.sha256").write_text(stored + "\n")
        check = subprocess.run([BUILD_SERVER, "--check"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               universal_newlines=True, check=False)
        assert check.returncode == 1 and "no binaries built from this recipe" in check.stderr
