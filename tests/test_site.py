"""`teamops report html` without a browser: strict HTML, escaping, privacy, exclusions, bad input."""

from __future__ import annotations

import html
import json
import os
import re
import sys
from pathlib import Path

import html5lib
import pytest

from tests.support.site_world import EMAILS, HOSTILE_NAME, HOSTILE_TEAM, NOW, build_world
from tests.support.small_disk import run_on_small_disk


@pytest.fixture
def world(cli, isolated):
    build_world(cli, isolated)
    return isolated


def build(cli, out: str = "site", *extra: str) -> list[Path]:
    res = cli("report", "html", "--out", out, *extra, env=NOW)
    assert res.exit_code == 0, res.output
    return sorted(Path(out).rglob("*.html"))


def test_every_page_is_strict_html_with_a_language_and_its_own_title(cli, world):
    pages = build(cli)
    names = {p.relative_to("site").as_posix() for p in pages}
    assert names == {
        "index.html",
        "people/ann.html",
        "people/ben.html",
        "people/eve.html",
        "repos/app.html",
        "teams/ops.html",
        "teams/web.html",
        "teams/script-alert-2-script.html",
    }
    titles = set()
    for page in pages:
        text = page.read_text(encoding="utf-8")
        parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
        tree = parser.parse(text)  # raises on the first parse error
        assert tree.get("lang") == "en"
        titles.add(tree.find("head/title").text)
        assert "http://" not in text.replace("http://www.w3.org/", "") and "https://" not in text
    assert len(titles) == len(pages)


def test_names_titles_and_teams_are_text_never_markup(cli, world):
    pages = build(cli)
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert "<script" not in text and "<img" not in text and "<i>" not in text, page
    eve = Path("site/people/eve.html").read_text(encoding="utf-8")
    assert "&lt;img src=x onerror=alert(1)&gt;Eve" in eve
    team = Path("site/teams/script-alert-2-script.html").read_text(encoding="utf-8")
    assert "&#34;&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in team or "&quot;&gt;&lt;script&gt;" in team
    index = Path("site/index.html").read_text(encoding="utf-8")
    assert "S1 &lt;i&gt;" in index  # the sprint's name in the burndown's title
    assert HOSTILE_NAME not in index and HOSTILE_TEAM not in team


def test_the_index_shows_each_service_s_delivery_and_the_incidents_with_the_deployment_each_failed(cli, world):
    build(cli)
    tree = html5lib.parse(Path("site/index.html").read_text(encoding="utf-8"), namespaceHTMLElements=False)
    sections = {s.get("data-report"): s for s in tree.iter("section") if s.get("data-report")}
    services = [[td.get("data-value") for td in tr.findall("td")[:2]] for tr in sections["dora-by-service"].iter("tr")]
    assert [row for row in services if row] == [['"core"', "3"], ['"feature"', "1"]]
    incidents = sections["incidents"]
    cells = {td.get("data-key"): json.loads(td.get("data-value")) for td in incidents.iter("td")}
    assert cells["title"] == "Checkout <b>down</b>" and cells["deployment"] == "v1.1.0" and cells["recover_h"] == 6.0
    assert "<b>" not in Path("site/index.html").read_text(encoding="utf-8")
    team = html5lib.parse(Path("site/teams/web.html").read_text(encoding="utf-8"), namespaceHTMLElements=False)
    assert "dora-by-service" not in {s.get("data-report") for s in team.iter("section")}
    # and the weeks' work an assistant co-wrote: the world's two changes signed by Claude
    assisted = [td.get("data-value") for td in sections["ai"].iter("td") if td.get("data-key") == "assisted_commits"]
    assert sum(int(v) for v in assisted) == 2
    beside = {td.get("data-key"): td.get("data-value") for td in sections["ai-compare"].iter("td")}
    assert beside["note"] == '"too few to compare"'  # two assisted commits: no comparison is drawn from them


def test_no_email_unless_asked_and_then_only_there(cli, world):
    everything = "".join(p.read_text(encoding="utf-8") for p in build(cli))
    assert not re.search(r"[\w.]+@[\w.]+\.example", everything)
    assert "(unmapped) Zed Unmapped" in everything  # the unmapped author is still counted, by name
    build(cli, "with-emails", "--emails")
    ann = Path("with-emails/people/ann.html").read_text(encoding="utf-8")
    assert EMAILS[0] in ann
    assert EMAILS[3] in Path("with-emails/index.html").read_text(encoding="utf-8")


def test_excluded_people_and_repositories_get_no_page_and_no_row(cli, world):
    Path("teamops.toml").write_text('[report]\nexclude = ["ben", "zed*", "Eve*"]\n', encoding="utf-8")
    pages = build(cli)
    names = {p.relative_to("site").as_posix() for p in pages}
    assert "people/ben.html" not in names and "people/eve.html" not in names and "people/ann.html" in names
    everything = "".join(p.read_text(encoding="utf-8") for p in pages)
    assert "Ben Baker" not in everything and ">ben<" not in everything and "Zed" not in everything
    # A folder built before the exclusion loses their pages; what else is in it stays.
    Path("again").mkdir()
    Path("again/notes.txt").write_text("mine\n", encoding="utf-8")
    Path("again/people").mkdir()
    Path("again/people/mine.html").write_text("<p>my own page</p>\n", encoding="utf-8")
    Path("teamops.toml").unlink()
    build(cli, "again")
    assert Path("again/people/ben.html").exists()
    Path("teamops.toml").write_text('[report]\nexclude = ["ben", "zed*", "Eve*"]\n', encoding="utf-8")
    build(cli, "again")
    assert not Path("again/people/ben.html").exists() and Path("again/people/ann.html").exists()
    assert Path("again/notes.txt").read_text(encoding="utf-8") == "mine\n"
    assert Path("again/people/mine.html").read_text(encoding="utf-8") == "<p>my own page</p>\n"
    # Totals still count their work: the index's weekly trend equals the command's, Ben's commits included.
    index = Path("site/index.html").read_text(encoding="utf-8")
    trend = index.split('data-report="activity"', 1)[1].split("</section>", 1)[0]
    shown_total = sum(int(v) for v in re.findall(r'data-key="commits" data-value="(\d+)"', trend))
    command = json.loads(html.unescape(re.search(r'data-command="([^"]+)"', trend).group(1)))
    rows = json.loads(cli(*command, "--format", "json", env=NOW).stdout)["rows"]
    assert shown_total == sum(r["commits"] for r in rows) == 25  # every non-merge commit of the world
    Path("teamops.toml").write_text('[report]\nexclude = ["app"]\n', encoding="utf-8")
    assert "repos/app.html" not in {p.relative_to("site2").as_posix() for p in build(cli, "site2")}


def test_the_same_data_builds_the_same_site(cli, world):
    first = {p.name: p.read_bytes() for p in build(cli, "a")}
    second = {p.name: p.read_bytes() for p in build(cli, "b")}
    assert first == second


@pytest.mark.parametrize("out", ["taken", "taken/site"])
def test_an_out_that_cannot_take_a_site_is_one_line_and_exit_2(cli, world, out):
    Path("taken").write_text("mine\n", encoding="utf-8")
    res = cli("report", "html", "--out", out, env=NOW)
    assert Path("taken").read_text(encoding="utf-8") == "mine\n"
    assert res.exit_code == 2, res.output
    assert res.stderr.count("\n") == 1 and "--out" in res.stderr and "Traceback" not in res.output


def test_an_empty_database_builds_a_page_that_says_so(cli, isolated):
    res = cli("report", "html", "--out", "site", env=NOW)
    assert res.exit_code == 0, res.output
    index = Path("site/index.html").read_text(encoding="utf-8")
    assert "no commits yet" in index
    html5lib.HTMLParser(strict=True).parse(index)


def test_an_excluded_reviewer_is_named_nowhere_not_even_in_who_reviews_whom(cli, isolated):
    """The real webhook payloads, the review given by another login: the reviews section names the pair."""
    fixtures = Path(__file__).parent / "fixtures" / "github-webhooks"
    review = json.loads((fixtures / "pull_request_review" / "submitted.payload.json").read_text(encoding="utf-8"))
    review["review"]["user"]["login"] = "octocat"
    (isolated / "review.json").write_text(json.dumps(review), encoding="utf-8")
    events = [
        ("pull_request", fixtures / "pull_request" / "opened.payload.json"),
        ("pull_request_review", isolated / "review.json"),
    ]
    for name, path in events:
        assert cli("sync-commits", "--event", str(path), "--event-name", name).exit_code == 0
    when = {"TEAMOPS_NOW": "2019-05-20T12:00:00Z"}
    assert cli("report", "html", "--out", "site", env=when).exit_code == 0
    index = Path("site/index.html").read_text(encoding="utf-8")
    assert "who reviews whom: octocat → Codertocat 1" in index
    Path("teamops.toml").write_text('[report]\nexclude = ["octo*"]\n', encoding="utf-8")
    assert cli("report", "html", "--out", "hidden", env=when).exit_code == 0
    assert not any("octocat" in p.read_text(encoding="utf-8") for p in Path("hidden").rglob("*.html"))


def test_a_full_disk_is_one_line_and_leaves_no_half_page(cli, world, tmp_path):
    """The site written onto a real 256 KB disk (the whole site is about 540 KB)."""
    site, copy = world / "small", tmp_path / "copy"
    site.mkdir()
    command = [sys.executable, "-m", "teamops", "--db", f"{world}/teamops.db", "report", "html", "--out", str(site)]
    res = run_on_small_disk(site, 256, command, copy, world, env={**os.environ, **NOW})
    assert res.returncode == 3, res.stderr
    assert res.stderr.strip().endswith("is full; nothing was lost, free space and run again"), res.stderr
    assert res.stderr.count("\n") == 1 and "Traceback" not in res.stderr
    left = sorted(p.relative_to(copy).as_posix() for p in copy.rglob("*") if p.is_file())
    assert left and not [p for p in left if p.endswith(".tmp")], left
    for page in copy.rglob("*.html"):  # the pages that made it are whole
        html5lib.HTMLParser(strict=True).parse(page.read_text(encoding="utf-8"))


def visible_text(page: Path) -> str:
    """What a reader sees: no tags, no attributes (a section keeps its command in data-command), no SVG."""
    text = page.read_text(encoding="utf-8")
    text = re.sub(r"<svg.*?</svg>", " ", text, flags=re.S)
    text = re.sub(r"<(script|style|head)\b.*?</\1>", " ", text, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", text))


def test_every_section_speaks_of_the_pages_one_period_and_no_page_tells_its_reader_to_type(cli, world):
    pages = build(cli)
    for page in pages:
        text = page.read_text(encoding="utf-8")
        period = re.search(r"<dt>Period</dt><dd>(\d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d), the 12 weeks", text)
        assert period, page
        headings = [html.unescape(h) for h in re.findall(r"<h2 id=\"s\d+\">(.*?)</h2>", text)]
        for heading in headings:
            if heading.startswith("Trend over 26 weeks: "):
                assert heading.split(", ")[-1].split(" (")[0].endswith(period.group(1)[-10:]), heading  # same end
            elif not heading.startswith(("Burndown", "Velocity")):  # a sprint has its own dates
                assert period.group(1) in heading, (page, heading)
        seen = visible_text(page)
        assert "`teamops" not in seen and "teamops kpi" not in seen and " --" not in seen, (page, seen[-600:])


def test_a_persons_page_shows_their_all_time_totals_beside_the_period(cli, world):
    build(cli)
    ever = json.loads(cli("kpi", "activity", "--person", "ann", "-f", "json", env=NOW).stdout)["rows"][0]
    text = Path("site/people/ann.html").read_text(encoding="utf-8")
    said = f"<dt>All time</dt><dd>{ever['commits']} commits, {ever['first_commit'][:10]} to {ever['last_commit'][:10]}"
    assert said in text
