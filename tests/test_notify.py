from __future__ import annotations

import json
import logging
import os
import socket
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.dbus_session import FakeNotifications, notification_service, session_bus
from tests.support import FakeHomebrew, make_venv, real_python
from venv_doctor import notify
from venv_doctor.check import check
from venv_doctor.config import Config
from venv_doctor.context import Context
from venv_doctor.diagnose.findings import Code, Finding, Severity
from venv_doctor.notify import (
    TEST_NOTIFICATION,
    Deduper,
    Notification,
    VenvEvent,
    build_notifiers,
    dispatch,
    group,
)
from venv_doctor.notify import bus as session
from venv_doctor.notify.backends import (
    OSASCRIPT_PROGRAM,
    CommandNotifier,
    LogNotifier,
    NotifySendNotifier,
    OsascriptNotifier,
)
from venv_doctor.notify.desktop import DesktopNotifier
from venv_doctor.notify.grouping import cause_label
from venv_doctor.paths import app_dirs

NASTY_BODY = 'it said "hi" \'twice\'"; do shell script "rm -rf ~" -- $(id) `id`'
BUS = "DBUS_SESSION_BUS_ADDRESS"
HOME = "/home/someone"  # the Context's home: never the process's (a tmp dir in tests)


def broken(name: str, path: Path, message: str, kind: str = "broken", **kw: object) -> VenvEvent:
    finding = Finding(Code.INTERPRETER_DANGLING, Severity.ERROR, message, "run repair")
    kw.setdefault("store", "virtualenvwrapper")
    return VenvEvent(kind=kind, name=name, path=path, status="broken", findings=(finding,), **kw)  # type: ignore[arg-type]


def keg_message(version: str = "3.12.1") -> str:
    target = f"/opt/homebrew/Cellar/python@3.12/{version}/bin/python3.12"
    return f"bin/python3.12 points to {target}, which no longer exists (Homebrew removed ...)"


def write_script(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def recording_stub(bin_dir: Path, name: str) -> Path:
    """An executable that records its argv (NUL-separated) and the bus address it got."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    record = bin_dir / f"{name}.argv"
    write_script(
        bin_dir / name,
        "#!/bin/sh\n"
        f"printf '%s\\0' \"$@\" > '{record}'\n"
        f"printf '%s' \"${{{BUS}:-}}\" > '{record}.bus'\n",
    )
    return record


def recorded_argv(record: Path) -> list[str]:
    return record.read_bytes().decode().split("\0")[:-1]


@pytest.fixture
def stub_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "stubs"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return bin_dir


@pytest.fixture
def user_bus_socket(isolated_home: Path) -> Iterator[Path]:
    """A socket at $XDG_RUNTIME_DIR/bus, as a systemd user session has."""
    path = Path(os.environ["XDG_RUNTIME_DIR"]) / "bus"
    path.parent.mkdir(parents=True, exist_ok=True)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.bind(str(path))
        yield path


# --- the notification and its JSON ------------------------------------------------------


def test_to_json_is_exactly_the_documented_object() -> None:
    venv = {"name": "a", "path": "/v/a", "status": "broken", "findings": []}
    n = Notification(kind="broken", title="T", body="B", venvs=[venv])
    data = json.loads(n.to_json())
    assert list(data) == ["schema_version", "kind", "venvs", "title", "body"]
    assert data == {
        "schema_version": 1,
        "kind": "broken",
        "venvs": [venv],
        "title": "T",
        "body": "B",
    }
    assert "\n" not in n.to_json()


def test_notification_rejects_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown notification kind"):
        Notification(kind="exploded", title="t", body="b")  # type: ignore[arg-type]


# --- command backend ----------------------------------------------------------------


def test_command_backend_gets_the_exact_json_on_stdin(tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    script = write_script(tmp_path / "sink", '#!/bin/sh\necho "$1" > "$2.arg"\ncat >> "$2"\n')
    config = Config(notify_backends=("command",), notify_command=(str(script), "hello", str(out)))
    event = broken("web", tmp_path / "web", keg_message(), kind="repaired", repair="relinked")
    n = group([event], home=HOME)

    deliveries = dispatch(n, build_notifiers(config, os.environ))

    assert [(d.backend, d.ok) for d in deliveries] == [("command", True), ("log", True)]
    assert out.read_text(encoding="utf-8") == n.to_json() + "\n"
    assert json.loads(out.read_text(encoding="utf-8")) == {
        "schema_version": 1,
        "kind": "repaired",
        "venvs": [
            {
                "name": "web",
                "path": str(tmp_path / "web"),
                "store": "virtualenvwrapper",
                "status": "broken",
                "findings": [
                    {
                        "code": "interpreter-dangling",
                        "severity": "error",
                        "message": keg_message(),
                        "hint": "run repair",
                    }
                ],
            }
        ],
        "title": "venv web repaired after python@3.12 changed",
        "body": "relinked",
    }
    assert (tmp_path / "events.jsonl.arg").read_text().strip() == "hello"


def test_a_batch_of_two_kinds_gives_the_command_one_event_per_kind(tmp_path: Path) -> None:
    """pyenv uninstall: one env inside the version vanished, one venv outside broke."""
    out = tmp_path / "events.jsonl"
    script = write_script(tmp_path / "sink", '#!/bin/sh\ncat >> "$1"\n')
    config = Config(notify_backends=("command",), notify_command=(str(script), str(out)))
    gone = broken("inside", tmp_path / "envs" / "inside", keg_message(), kind="vanished")
    bad = broken("outside", tmp_path / "outside", keg_message())
    n = group([bad, gone], home=HOME)

    deliveries = dispatch(n, build_notifiers(config, os.environ))

    assert [(d.backend, d.ok) for d in deliveries] == [("command", True), ("log", True)]
    events = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(e["kind"], [v["name"] for v in e["venvs"]]) for e in events] == [
        ("broken", ["outside"]),
        ("vanished", ["inside"]),
    ]
    assert all(list(e) == ["schema_version", "kind", "venvs", "title", "body"] for e in events)
    assert events[1]["title"] == "venv inside vanished after python@3.12 changed"
    # the desktop still gets one bubble for the batch
    assert n.title == "2 venvs broke or vanished after python@3.12 changed"
    assert n.urgency == "critical"


def test_failing_command_is_reported_not_raised(tmp_path: Path) -> None:
    script = write_script(tmp_path / "bad", "#!/bin/sh\necho 'ntfy: 503 unavailable' >&2\nexit 3\n")
    notifiers = build_notifiers(
        Config(notify_backends=("command",), notify_command=(str(script),)), os.environ
    )
    command, log = dispatch(TEST_NOTIFICATION, notifiers)
    assert not command.ok
    assert command.error is not None
    assert "exit code 3" in command.error
    assert "ntfy: 503 unavailable" in command.error
    assert log.ok


def test_command_that_hangs_times_out(tmp_path: Path) -> None:
    script = write_script(tmp_path / "slow", "#!/bin/sh\nexec sleep 30\n")
    notifier = CommandNotifier([str(script)], os.environ, timeout=0.5)
    (delivery,) = dispatch(TEST_NOTIFICATION, [notifier])
    assert not delivery.ok
    assert delivery.error is not None
    assert "timed out" in delivery.error


def test_command_backend_says_why_it_is_unavailable(tmp_path: Path) -> None:
    assert "no [notify] command" in str(CommandNotifier([], os.environ).available())
    missing = CommandNotifier([str(tmp_path / "nope")], os.environ)
    assert "is not an executable file" in str(missing.available())
    (delivery,) = dispatch(TEST_NOTIFICATION, [missing])
    assert not delivery.ok
    assert delivery.error is not None
    assert delivery.error.startswith("not available:")


# --- osascript and notify-send: text as arguments, never as code -------------------


def test_osascript_passes_title_and_body_as_arguments(stub_path: Path) -> None:
    record = recording_stub(stub_path, "osascript")
    n = Notification(kind="broken", title='venv "x" broke', body=NASTY_BODY)
    config = Config(notify_backends=("osascript",))

    deliveries = dispatch(n, build_notifiers(config, os.environ))

    assert deliveries[0].backend == "osascript"
    assert deliveries[0].ok
    argv = recorded_argv(record)
    assert argv == [*OSASCRIPT_PROGRAM, 'venv "x" broke', NASTY_BODY]
    # The script is three fixed statements; no notification text is ever AppleScript.
    assert argv[:6] == [
        "-e",
        "on run argv",
        "-e",
        "display notification (item 2 of argv) with title (item 1 of argv)",
        "-e",
        "end run",
    ]


def test_notify_send_passes_title_and_body_as_arguments(
    stub_path: Path, user_bus_socket: Path
) -> None:
    record = recording_stub(stub_path, "notify-send")
    n = Notification(kind="repair_failed", title="-t title", body=NASTY_BODY, urgency="critical")
    notifier = NotifySendNotifier(os.environ)
    assert notifier.available() is True

    (delivery,) = dispatch(n, [notifier])

    assert delivery.ok, delivery.error
    assert recorded_argv(record) == [
        "--app-name=venv-doctor",
        "--urgency=critical",
        "--",
        "-t title",
        NASTY_BODY,
    ]
    # No DBUS_SESSION_BUS_ADDRESS in the environment: it was found at $XDG_RUNTIME_DIR/bus.
    assert (stub_path / "notify-send.argv.bus").read_text() == f"unix:path={user_bus_socket}"


def test_notifications_and_the_service_use_one_bus(user_bus_socket: Path) -> None:
    per_login = {**os.environ, BUS: "unix:abstract=/tmp/dbus-x,guid=1"}
    bus = session.session_bus(per_login)
    # the user bus outlives the login: sent to now and written into the unit alike
    assert bus.address == bus.lasting == f"unix:path={user_bus_socket}"


def test_a_per_login_bus_serves_now_but_is_not_given_to_a_service(tmp_path: Path) -> None:
    env = {BUS: "unix:abstract=/tmp/dbus-x,guid=1", "XDG_RUNTIME_DIR": str(tmp_path)}
    bus = session.session_bus(env)
    assert bus.address == "unix:abstract=/tmp/dbus-x,guid=1"
    assert bus.lasting == f"unix:path={tmp_path / 'bus'}"


def test_notify_send_without_a_session_bus_is_unavailable(stub_path: Path) -> None:
    recording_stub(stub_path, "notify-send")
    reason = NotifySendNotifier(os.environ).available()
    assert isinstance(reason, str)
    assert "no D-Bus session bus" in reason


def test_stub_failure_carries_its_output(stub_path: Path) -> None:
    write_script(stub_path / "osascript", "#!/bin/sh\necho 'execution error: -1743' >&2\nexit 1\n")
    (delivery,) = dispatch(TEST_NOTIFICATION, [OsascriptNotifier(os.environ)])
    assert not delivery.ok
    assert delivery.error is not None
    assert "execution error: -1743" in delivery.error


# --- choosing backends and dispatching ----------------------------------------------


def test_auto_picks_the_desktop_backend_plus_command_and_log(user_bus_socket: Path) -> None:
    config = Config(notify_command=("/bin/true",))
    names = [n.name for n in build_notifiers(config, os.environ)]
    assert names == ["desktop", "command", "log"]


def test_auto_without_any_desktop_backend_keeps_them_to_say_why(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    notifiers = build_notifiers(Config(), os.environ)
    assert [n.name for n in notifiers] == ["desktop", "notify-send", "log"]
    deliveries = dispatch(TEST_NOTIFICATION, notifiers)
    assert [d.ok for d in deliveries] == [False, False, True]
    assert not notify.delivered(deliveries)
    assert "no D-Bus session bus" in (deliveries[0].error or "")
    assert "notify-send not found" in (deliveries[1].error or "")


def test_explicit_backends_keep_their_order_and_the_log_is_added_once() -> None:
    config = Config(notify_backends=("log", "command", "command"), notify_command=("/bin/true",))
    assert [n.name for n in build_notifiers(config, os.environ)] == ["log", "command"]


class Exploding:
    name = "exploding"

    def available(self) -> bool | str:
        return True

    def send(self, notification: Notification) -> None:
        raise RuntimeError("boom")


def test_dispatch_never_raises_and_logs_the_failure(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="venv_doctor.notify"):
        deliveries = dispatch(TEST_NOTIFICATION, [Exploding(), LogNotifier()])
    assert [(d.backend, d.ok, d.error) for d in deliveries] == [
        ("exploding", False, "RuntimeError: boom"),
        ("log", True, None),
    ]
    assert any("exploding failed unexpectedly" in r.getMessage() for r in caplog.records)
    assert any(TEST_NOTIFICATION.title in r.getMessage() for r in caplog.records)


def test_log_backend_logs_problems_as_warnings(caplog: pytest.LogCaptureFixture) -> None:
    n = group([broken("web", Path("/v/web"), keg_message())], home=HOME)
    with caplog.at_level(logging.INFO, logger="venv_doctor.notify"):
        LogNotifier().send(n)
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert record.getMessage().startswith("broken: venv web broke after python@3.12 changed: ")
    assert "[/v/web]" in record.getMessage()


# --- grouping -------------------------------------------------------------------------


def test_where_venvs_live_is_shortened_under_the_contexts_home_not_the_processs() -> None:
    events = [broken(n, Path(HOME) / ".virtualenvs" / n, keg_message()) for n in ("a", "b")]
    assert os.environ["HOME"] != HOME
    assert "a in ~/.virtualenvs, b in ~/.virtualenvs" in group(events, home=HOME).body
    process_home = os.environ["HOME"]
    assert "a in /home/someone/.virtualenvs" in group(events, home=process_home).body


def test_twenty_repaired_venvs_become_one_notification(tmp_path: Path) -> None:
    events = [
        broken(f"v{i}", tmp_path / f"v{i}", keg_message(), kind="repaired", repair="relinked")
        for i in range(20)
    ]
    n = group(events, home=HOME)
    assert n.kind == "repaired"
    assert n.urgency == "normal"
    assert n.title == "20 venvs repaired after python@3.12 changed"
    assert n.body.splitlines() == [
        "20 relinked",
        f"v0 in {tmp_path}, v1 in {tmp_path}, v2 in {tmp_path} and 17 more",
    ]
    assert [v["name"] for v in n.venvs] == [f"v{i}" for i in range(20)]


def test_mixed_outcomes_take_the_most_urgent_kind(tmp_path: Path) -> None:
    events = [
        broken(f"ok{i}", tmp_path / f"ok{i}", keg_message(), kind="repaired", repair="relinked")
        for i in range(10)
    ]
    events += [broken("old", tmp_path / "old", keg_message(), kind="repair_failed", error="x")]
    events += [broken("gone", tmp_path / "gone", keg_message(), kind="vanished")]
    n = group(events, home=HOME)
    assert n.kind == "repair_failed"
    assert n.urgency == "critical"
    assert n.title == "12 venvs broke or vanished after python@3.12 changed"
    first, _names, action = n.body.splitlines()
    assert first == "10 relinked, 1 could not be repaired, 1 vanished"
    assert action == "Run: venv-doctor repair old gone"
    assert "`" not in n.body
    assert [(p.kind, len(p.venvs)) for p in n.parts] == [
        ("repair_failed", 1),
        ("vanished", 1),
        ("repaired", 10),
    ]


def test_unrelated_causes_name_no_cause(tmp_path: Path) -> None:
    events = [
        broken("a", tmp_path / "a", keg_message()),
        broken("b", tmp_path / "b", "home = /root/.pyenv/versions/3.11.4/bin no longer exists"),
    ]
    n = group(events, home=HOME)
    assert n.title == "2 venvs broke"
    assert n.body.splitlines() == [
        "2 need repair",
        f"a in {tmp_path}, b in {tmp_path}",
        "Run: venv-doctor repair a b",
    ]


def test_single_broken_venv_says_what_and_how_to_fix(tmp_path: Path) -> None:
    n = group([broken("my venv", tmp_path / "my venv", keg_message())], home=HOME)
    assert n.kind == "broken"
    assert n.title == "venv my venv broke after python@3.12 changed"
    assert n.body.splitlines() == [
        "needs repair",
        keg_message(),
        "Run: venv-doctor repair 'my venv'",
    ]


def test_group_needs_events() -> None:
    with pytest.raises(ValueError, match="at least one event"):
        group([], home=HOME)


@pytest.mark.parametrize(
    ("path", "label"),
    [
        ("/opt/homebrew/Cellar/python@3.12/3.12.1/bin/python3.12", "python@3.12"),
        ("/opt/homebrew/opt/python@3.12/bin", "python@3.12"),
        ("/home/linuxbrew/.linuxbrew/Cellar/python@3.11/3.11.9_1/bin/", "python@3.11"),
        ("/root/.pyenv/versions/3.11.4/bin/python3.11", "pyenv 3.11.4"),
        (
            "/home/u/.local/share/uv/python/cpython-3.12.4-linux-x86_64-gnu/bin/python3.12",
            "uv's cpython-3.12.4-linux-x86_64-gnu",
        ),
        (
            "/Library/Frameworks/Python.framework/Versions/3.12/bin/python3.12",
            "python.org Python 3.12",
        ),
        ("/usr/bin/python3.11", "the system Python"),
        ("/usr/bin", "the system Python"),
        ("/srv/py/3.10/bin/python3.10", "/srv/py/3.10"),
    ],
)
def test_cause_labels(path: str, label: str) -> None:
    assert cause_label(path) == label


def test_a_real_homebrew_upgrade_groups_into_one_notification(
    homebrew: FakeHomebrew, isolated_home: Path
) -> None:
    keg_python = homebrew.install("3.12", "3.12.1")
    store = isolated_home / ".virtualenvs"
    for i in range(20):
        make_venv(keg_python, store / f"env{i:02}")
    homebrew.upgrade("3.12", "3.12.1", "3.12.2")

    ctx = Context(config=Config(), dirs=app_dirs(os.environ), env=os.environ)
    diagnoses = check(ctx)
    n = group([VenvEvent.from_diagnosis("broken", d) for d in diagnoses], home=HOME)
    assert n.kind == "broken"
    assert n.title == "20 venvs broke after python@3.12 changed"
    assert n.body.splitlines()[0] == "20 need repair"
    assert len(n.venvs) == 20
    assert all(v["status"] == "broken" for v in n.venvs)
    assert all("interpreter-dangling" in {f["code"] for f in v["findings"]} for v in n.venvs)
    # The cause is also found from the findings alone, without the interpreter hint.
    bare = [VenvEvent("broken", d.name, d.path, "broken", d.findings) for d in diagnoses]
    assert group(bare, home=HOME).title == "20 venvs broke after python@3.12 changed"


def test_real_pyenv_interpreter_change_names_the_version(tmp_path: Path) -> None:
    python = real_python("3.12")
    event = VenvEvent("vanished", "gone", tmp_path / "gone", "broken", interpreter=str(python))
    version = python.parent.parent.name
    assert group([event], home=HOME).title == f"venv gone vanished after pyenv {version} changed"


# --- dedup ----------------------------------------------------------------------------


def test_deduper_tells_each_problem_once(tmp_path: Path) -> None:
    dedup = Deduper()
    a = broken("a", tmp_path / "a", keg_message())
    b = broken("b", tmp_path / "b", keg_message())
    assert dedup.fresh([a, b]) == [a, b]
    assert dedup.fresh([a, b]) == []
    changed = broken("a", tmp_path / "a", keg_message("3.12.2"))
    assert dedup.fresh([changed, b]) == [changed]
    repaired = broken("a", tmp_path / "a", keg_message("3.12.2"), kind="repaired")
    assert dedup.fresh([repaired]) == [repaired]


def test_deduper_forgets_a_venv_that_became_healthy(tmp_path: Path) -> None:
    dedup = Deduper()
    a = broken("a", tmp_path / "a", keg_message())
    dedup.fresh([a])
    dedup.forget(tmp_path / "a")
    assert dedup.fresh([a]) == [a]


def test_deduper_problem_key_ignores_finding_order(tmp_path: Path) -> None:
    one = Finding(Code.HOME_MISSING, Severity.ERROR, "home = /x no longer exists")
    two = Finding(Code.DEAD_SHEBANG, Severity.ERROR, "2 scripts start /x/bin/python")
    first = VenvEvent("broken", "a", tmp_path / "a", "broken", (one, two))
    second = VenvEvent("broken", "a", tmp_path / "a", "broken", (two, one))
    assert notify.problem_key(first) == notify.problem_key(second)


def test_deduper_survives_a_round_trip_through_the_state_file(tmp_path: Path) -> None:
    dedup = Deduper()
    a = broken("a", tmp_path / "a", keg_message())
    b = broken("b", tmp_path / "b", keg_message())
    dedup.fresh([a, b])
    saved = json.loads(json.dumps(dedup.to_dict()))
    restored = Deduper({**saved, "junk": 3})  # type: ignore[dict-item]
    assert restored.fresh([a, b]) == []
    restored.prune([tmp_path / "b"])
    assert set(restored.to_dict()) == {str(tmp_path / "b")}
    assert restored.fresh([a]) == [a]


# --- desktop backend over a real (private) D-Bus session bus ------------------------


@pytest.fixture
def private_bus(tmp_path: Path) -> Iterator[str]:
    with session_bus(tmp_path / "dbus" / "bus") as address:
        yield address


@pytest.fixture
def notifications(private_bus: str, tmp_path: Path) -> Iterator[FakeNotifications]:
    with notification_service(private_bus, tmp_path) as service:
        yield service


def notify_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "venv-doctor-notify"]


def test_desktop_backend_sends_a_real_dbus_notification(
    private_bus: str, notifications: FakeNotifications, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(BUS, private_bus)
    desktop = DesktopNotifier(os.environ)
    assert desktop.available() is True
    n = Notification(kind="broken", title='venv "web" broke', body=NASTY_BODY, urgency="critical")
    try:
        desktop.send(n)
        desktop.send(TEST_NOTIFICATION)
    finally:
        desktop.close()
    assert notifications.received() == [
        {
            "app_name": "venv-doctor",
            "summary": 'venv "web" broke',
            "body": NASTY_BODY,
            "urgency": 2,
        },
        {
            "app_name": "venv-doctor",
            "summary": TEST_NOTIFICATION.title,
            "body": TEST_NOTIFICATION.body,
            "urgency": 1,
        },
    ]
    assert notify_threads() == []


def test_desktop_backend_finds_the_bus_in_xdg_runtime_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(BUS, raising=False)
    socket_path = Path(os.environ["XDG_RUNTIME_DIR"]) / "bus"
    with (
        session_bus(socket_path) as address,
        notification_service(address, tmp_path) as service,
    ):
        notifiers = build_notifiers(Config(), os.environ)
        assert [n.name for n in notifiers] == ["desktop", "log"]
        try:
            deliveries = dispatch(TEST_NOTIFICATION, notifiers)
        finally:
            notify.close(notifiers)
        assert [(d.backend, d.ok) for d in deliveries] == [("desktop", True), ("log", True)]
        assert [r["summary"] for r in service.received()] == [TEST_NOTIFICATION.title]
    assert BUS not in os.environ  # the address is passed to dbus-fast, not exported


def test_desktop_backend_reports_a_missing_service_then_recovers(
    private_bus: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(BUS, private_bus)
    desktop = DesktopNotifier(os.environ)
    try:
        (failed,) = dispatch(TEST_NOTIFICATION, [desktop])
        assert not failed.ok
        assert "org.freedesktop.Notifications" in (failed.error or "")
        with notification_service(private_bus, tmp_path) as service:
            (delivered,) = dispatch(TEST_NOTIFICATION, [desktop])
            assert delivered.ok, delivered.error
            assert len(service.received()) == 1
    finally:
        desktop.close()


def test_desktop_backend_without_a_bus_says_so() -> None:
    desktop = DesktopNotifier(os.environ)
    reason = desktop.available()
    assert isinstance(reason, str)
    assert "no D-Bus session bus" in reason
    with pytest.raises(notify.NotifyError, match="no D-Bus session bus"):
        desktop.send(TEST_NOTIFICATION)
