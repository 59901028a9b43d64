"""Configuration: discovery, precedence, validation errors (exit 3, one line) and redaction."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.paths import ROOT


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("toml", "needle"),
    [
        ("[store\npath = 'x'", "not valid TOML"),
        ("[store]\npaht = 'x.db'\n", "store.paht is not a known key"),
        ("[store]\npath = 5\n", "store.path must be a string"),
        ("[[repos]]\nbranches = 'main'\n", "repos[0].branches must be a list of strings"),
        (
            "[[people]]\nhandle = 'a'\ntimezone = 'Mars/Olympus'\n",
            "people[0].timezone is not a known IANA timezone",
        ),
        (
            "[[people]]\nhandle = 'a'\n[[people]]\nhandle = 'A'\n",
            "people[1].handle 'A' appears twice",
        ),
        ("[kpi]\nworking_days = ['mon', 'funday']\n", "kpi.working_days has 'funday'"),
        ("color = true\n", "color is not a known key"),
    ],
)
def test_bad_config_is_exit_3_with_one_line_naming_file_and_key(cli, isolated, toml, needle):
    write(isolated / "teamops.toml", toml)
    res = cli("config", "show")
    assert res.exit_code == 3
    assert needle in res.stderr
    assert "teamops.toml" in res.stderr
    assert res.stderr.count("\n") == 1
    assert "Traceback" not in res.output


def test_debug_shows_the_traceback(cli, isolated):
    write(isolated / "teamops.toml", "[store]\npath = 5\n")
    res = cli("--debug", "config", "show")
    assert res.exit_code == 3 and "Traceback (most recent call last)" in res.stderr and "ConfigError" in res.stderr


def test_missing_config_file_named_by_flag_or_env(cli, isolated):
    assert cli("--config", "nope.toml", "config", "show").exit_code == 3
    res = cli("config", "show", env={"TEAMOPS_CONFIG": "also-nope.toml"})
    assert res.exit_code == 3 and "TEAMOPS_CONFIG" in res.stderr


def test_precedence_flag_over_env_over_file_over_default(cli, isolated):
    def db_value(*args: str, env: dict[str, str] | None = None) -> tuple[str, str]:
        res = cli(*args, "config", "show", "--format", "json", env=env)
        row = next(r for r in json.loads(res.stdout)["rows"] if r["key"] == "store.path")
        return row["value"], row["source"]

    assert db_value() == ("teamops.db", "default")
    write(isolated / "teamops.toml", '[store]\npath = "from-file.db"\n')
    assert db_value() == ("from-file.db", "file")
    assert db_value(env={"TEAMOPS_STORE_PATH": "from-env.db"}) == ("from-env.db", "env")
    assert db_value(env={"TEAMOPS_DB": "alias.db"}) == ("alias.db", "env")
    assert db_value("--db", "flag.db", env={"TEAMOPS_DB": "alias.db"}) == ("flag.db", "flag")


def test_config_file_from_env_and_relative_paths(cli, tmp_path, isolated):
    conf_dir = tmp_path / "etc"
    conf_dir.mkdir()
    write(conf_dir / "team.toml", '[store]\npath = "data/team.db"\n')
    (conf_dir / "data").mkdir()
    res = cli("config", "show", "--format", "json", env={"TEAMOPS_CONFIG": str(conf_dir / "team.toml")})
    assert json.loads(res.stdout)["database"] == str(conf_dir / "data" / "team.db")


def test_bad_environment_value_names_the_variable(cli, isolated):
    res = cli("config", "show", env={"TEAMOPS_KPI_WORKING_DAYS": "mon,blursday"})
    assert res.exit_code == 3 and "kpi.working_days" in res.stderr


def test_config_show_never_prints_secret_values(cli, isolated):
    from teamops.config import redact

    env = {"MY_TOKEN": "ghp_supersecret"}
    assert redact("github.token_env", "MY_TOKEN", env) == "MY_TOKEN (set)"
    assert redact("github.token_env", "OTHER", env) == "OTHER (not set)"
    assert redact("x.token", "ghp_supersecret", env) == "***"
    shown = redact("notify.channels.team.url", "https://hooks.slack.com/services/T0/B0/SECRET", env)
    assert "SECRET" not in shown and "T0" not in shown and shown.startswith("https://hooks.slack.com")


def test_dotenv_is_loaded_but_never_overrides(cli, isolated):
    write(isolated / ".env", "TEAMOPS_DB=from-dotenv.db\n")
    res = cli("config", "show", "--format", "json")
    assert json.loads(res.stdout)["database"] == "from-dotenv.db"


def test_example_config_is_valid_and_documents_every_key(tmp_path):
    import dataclasses

    from teamops.config import Config, load_config

    example = ROOT / "teamops.toml.example"
    cfg = load_config(str(example), env={})
    assert cfg.people[0].handle == "alice"
    text = example.read_text(encoding="utf-8")

    def keys(cls: type) -> set[str]:
        out = set()
        for f in dataclasses.fields(cls):
            if f.metadata.get("internal"):
                continue
            out.add(f.name)
        return out

    for section in (
        "store",
        "github",
        "ai",
        "notify",
        "clickup",
        "tasks",
        "raci",
        "reminders",
        "kpi",
        "dora",
        "ai_assist",
    ):
        for key in keys(type(getattr(Config(), section))):
            assert f"{key} =" in text or f"[{section}.{key}" in text, f"{section}.{key} is not documented"
    from teamops.config import ChannelConfig, PersonConfig, RepoConfig

    for key in keys(PersonConfig) | keys(RepoConfig) | keys(ChannelConfig):
        assert f"{key} =" in text, f"{key} is not documented"
    from teamops.sources import kinds, trackers

    for t in trackers():  # each tracker's own section
        if t.settings is not None:
            assert f"[{t.kind}]" in text and t.kind in cfg.sections
            for key in keys(t.settings):
                assert f"{key} =" in text or f"[{t.kind}.{key}" in text, f"{t.kind}.{key} is not documented"
    for k in kinds():  # each source kind's [[repos]] key and its own section
        assert f"\n{k.config_key} = " in text, f"[[repos]] {k.config_key} is not documented"
        if k.settings is not None:
            assert f"[{k.kind}]" in text and k.kind in cfg.sections
            for key in keys(k.settings):
                assert f"{key} =" in text, f"{k.kind}.{key} is not documented"


@pytest.mark.parametrize(
    ("toml", "needle"),
    [
        ('[[repos]]\npath = "."\ngithub = "a/b"\n', "repos[0] needs exactly one of"),
        ('[[repos]]\ngithub = "not a repo"\n', 'repos[0].github must look like "owner/name"'),
        ('[github]\napi_url = "api.github.com"\n', "github.api_url must be an http(s) URL"),
        ("[github]\nmax_wait_s = 0\n", "github.max_wait_s must be from 1 to 86,400, got 0"),
        ('[clickup]\nlist_ids = ["L1"]\n', "clickup.list_ids has 'L1': ClickUp ids are numbers"),
        ('[clickup]\nteam_id = "90/../1"\n', "clickup.team_id has '90/../1': ClickUp ids are numbers"),
        ('[clickup]\nsprint_folder_ids = ["9?x=1"]\n', "clickup.sprint_folder_ids has '9?x=1'"),
    ],
)
def test_github_config_errors(cli, isolated, toml, needle):
    write(isolated / "teamops.toml", toml)
    res = cli("config", "show")
    assert res.exit_code == 3 and needle in res.stderr


def test_github_api_url_from_environment(cli, isolated):
    res = cli(
        "config",
        "show",
        "-f",
        "json",
        env={"TEAMOPS_GITHUB_API_URL": "https://ghe.acme.io/api/v3", "GITHUB_TOKEN": "ghp_x"},
    )
    by_key = {r["key"]: r for r in json.loads(res.stdout)["rows"]}
    assert by_key["github.api_url"] == {
        "key": "github.api_url",
        "value": "https://ghe.acme.io/api/v3",
        "source": "env",
    }
    assert by_key["github.token_env"]["value"] == "GITHUB_TOKEN (set)"
    assert "ghp_x" not in res.stdout


def test_clickup_ids_as_toml_integers(cli, isolated):
    write(
        isolated / "teamops.toml",
        "[clickup]\nteam_id = 9012345\nlist_ids = [901100200300, 901100200301]\n"
        "docs_parent = { id = 90120000, type = 4 }\n"
        '[[people]]\nhandle = "alice"\nclickup_id = 81234\n',
    )
    from teamops.config import load_config

    cfg = load_config(None, None, {})
    assert cfg.clickup.team_id == "9012345" and cfg.clickup.list_ids == ["901100200300", "901100200301"]
    assert cfg.clickup.docs_parent == {"id": "90120000", "type": "4"} and cfg.people[0].clickup_id == "81234"
    assert cli("config", "show").exit_code == 0


def test_config_show_names_the_true_source_of_each_value(cli, isolated):
    write(
        isolated / "teamops.toml",
        '[ai]\nmodel = "ollama/llama3"\n[notify.channels.team]\nkind = "slack"\nurl_env = "SLACK_URL"\n'
        '[notify.routes]\ntask_blocked = ["team"]\n[[repos]]\npath = "."\n',
    )
    res = cli("--db", "flag.db", "config", "show", "-f", "json", env={"TEAMOPS_AI_CONCURRENCY": "2"})
    src = {r["key"]: r["source"] for r in json.loads(res.stdout)["rows"]}
    assert src["ai.model"] == "file" and src["ai.concurrency"] == "env" and src["ai.timeout_s"] == "default"
    assert src["notify.channels.team.kind"] == "file" and src["notify.channels.team.url_env"] == "file"
    assert src["notify.channels.team.secret_env"] == "default"
    assert src["notify.routes"] == "file" and src["repos[0].path"] == "file" and src["store.path"] == "flag"


def test_an_unknown_teamops_variable_is_warned_about_with_the_closest_name(cli, isolated):
    res = cli("config", "show", env={"TEAMOPS_STORE_PAHT": "x.db", "TEAMOPS_QQQ": "1", "TEAMOPS_NOW": ""})
    assert res.exit_code == 0
    assert (
        "warning: TEAMOPS_STORE_PAHT is not a teamops setting and is ignored; did you mean TEAMOPS_STORE_PATH?"
        in res.stderr
    )
    assert "warning: TEAMOPS_QQQ is not a teamops setting and is ignored; see teamops.toml.example" in res.stderr
    assert "TEAMOPS_NOW" not in res.stderr
