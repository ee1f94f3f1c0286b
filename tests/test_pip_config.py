from __future__ import annotations

import os
from pathlib import Path

import pytest

from venv_doctor.errors import ConfigError
from venv_doctor.install.pip_config import Setting, config_files, read_settings, uv_options


def _settings(**values: str) -> dict[str, Setting]:
    return {k.replace("_", "-"): Setting(v, "test") for k, v in values.items()}


def test_env_index_settings_become_uv_options() -> None:
    env = {
        "PIP_INDEX_URL": "https://mirror.example/simple",
        "PIP_EXTRA_INDEX_URL": "https://a.example/simple https://b.example/simple",
        "PIP_FIND_LINKS": "/srv/wheels /srv/more",
        "PIP_NO_INDEX": "1",
        "HOME": "/nonexistent",
    }
    options = uv_options(read_settings(env, files=[]))
    assert options.args == (
        "--extra-index-url",
        "https://a.example/simple",
        "--extra-index-url",
        "https://b.example/simple",
        "--find-links",
        "/srv/wheels",
        "--find-links",
        "/srv/more",
        "--index-url",
        "https://mirror.example/simple",
        "--no-index",
        "--index-strategy",
        "unsafe-best-match",
    )
    assert options.unsupported == ()


@pytest.mark.parametrize(("value", "expected"), [("yes", True), ("0", False), ("off", False)])
def test_no_index_booleans(value: str, expected: bool) -> None:
    options = uv_options(_settings(no_index=value))
    assert ("--no-index" in options.args) is expected


def test_pip_conf_sections_and_precedence(tmp_path: Path) -> None:
    site = tmp_path / "site.conf"
    site.write_text(
        "[global]\nindex-url = https://global.example/simple\ntimeout = 60\n"
        "[install]\nindex_url = https://install.example/simple\n"
        "[freeze]\nfind-links = /ignored\n"
    )
    user = tmp_path / "user.conf"
    user.write_text(
        "[global]\nfind-links =\n    /wheels/one\n    /wheels/two\ntrusted-host = pypi.lan\n"
    )
    settings = read_settings({"PIP_TIMEOUT": "12.5"}, files=[site, user, tmp_path / "missing.conf"])
    assert settings["index-url"] == Setting("https://install.example/simple", f"{site} [install]")
    assert settings["timeout"] == Setting("12.5", "PIP_TIMEOUT")
    options = uv_options(settings)
    assert options.args == (
        "--index-url",
        "https://install.example/simple",
        "--find-links",
        "/wheels/one",
        "--find-links",
        "/wheels/two",
        "--allow-insecure-host",
        "pypi.lan",
    )
    assert dict(options.env) == {"UV_HTTP_TIMEOUT": "12"}


def test_other_translations_and_ignored_settings() -> None:
    options = uv_options(
        _settings(
            constraint="/etc/c1.txt /etc/c2.txt",
            only_binary=":all:",
            no_binary="foo,bar",
            pre="true",
            require_hashes="false",
            cert="/etc/ssl/ca.pem",
            client_cert="/etc/ssl/me.pem",
            proxy="http://proxy:3128",
            keyring_provider="subprocess",
            disable_pip_version_check="1",
            no_cache_dir="1",
            root_user_action="ignore",
            default_timeout="180",
        )
    )
    assert options.args == (
        "--constraints",
        "/etc/c1.txt",
        "--constraints",
        "/etc/c2.txt",
        "--only-binary",
        ":all:",
        "--no-binary",
        "foo",
        "--no-binary",
        "bar",
        "--prerelease",
        "allow",
        "--keyring-provider",
        "subprocess",
    )
    assert dict(options.env) == {
        "SSL_CERT_FILE": "/etc/ssl/ca.pem",
        "SSL_CLIENT_CERT": "/etc/ssl/me.pem",
        "HTTPS_PROXY": "http://proxy:3128",
        "HTTP_PROXY": "http://proxy:3128",
        "UV_HTTP_TIMEOUT": "180",
    }
    assert options.unsupported == ()


def test_settings_uv_cannot_express_are_reported_with_their_origin_not_their_value(
    tmp_path: Path,
) -> None:
    conf = tmp_path / "pip.conf"
    conf.write_text("[install]\nuser = true\nkeyring-provider = import\n")
    settings = read_settings({"PIP_TARGET": "/opt/site", "PIP_NO_INDEX": "maybe"}, files=[conf])
    assert sorted(uv_options(settings).unsupported) == [
        f"keyring-provider ({conf} [install])",
        "no-index (PIP_NO_INDEX): not a boolean",
        "target (PIP_TARGET)",
        f"user ({conf} [install])",
    ]


def test_a_broken_pip_conf_is_a_config_error(tmp_path: Path) -> None:
    conf = tmp_path / "pip.conf"
    conf.write_text("index-url = no section header\n")
    with pytest.raises(ConfigError, match="not a valid pip configuration file"):
        read_settings({}, files=[conf])


def test_config_files_in_pip_order(isolated_home: Path, tmp_path: Path) -> None:
    env = {
        "HOME": str(isolated_home),
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
        "XDG_CONFIG_DIRS": "/a:/b",
    }
    assert config_files(env) == [
        Path("/a/pip/pip.conf"),
        Path("/b/pip/pip.conf"),
        Path("/etc/pip.conf"),
        isolated_home / ".pip" / "pip.conf",
        tmp_path / "cfg" / "pip" / "pip.conf",
    ]
    chosen = tmp_path / "chosen.conf"
    chosen.write_text("[global]\n")
    # an existing PIP_CONFIG_FILE replaces the user's files; os.devnull means none at all
    with_file = config_files({**env, "PIP_CONFIG_FILE": str(chosen)})
    assert with_file[-1] == chosen
    assert isolated_home / ".pip" / "pip.conf" not in with_file
    assert config_files({**env, "PIP_CONFIG_FILE": os.devnull}) == []


def test_read_settings_follows_pip_config_file(tmp_path: Path) -> None:
    conf = tmp_path / "pip.conf"
    conf.write_text("[global]\nno-index = true\nfind-links = /w\n")
    env = {
        "HOME": str(tmp_path),
        "PIP_CONFIG_FILE": str(conf),
        "XDG_CONFIG_DIRS": str(tmp_path / "none"),
    }
    settings = read_settings(env)
    assert settings["no-index"].origin == f"{conf} [global]"
    assert "config-file" not in settings
