"""`teamops notify`: deliver the outbox, test a channel, see what was sent."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from teamops.cli.options import DryRunOpt, FormatOpt, fmt_value
from teamops.cli.output import Column, Output, Report
from teamops.cli.state import AppState, state
from teamops.errors import ServiceError

app = typer.Typer(help="Notifications: the outbox and its channels.", no_args_is_help=True)


def show_previews(out: Output, previews: list[dict[str, Any]]) -> None:
    """--dry-run: each rendered payload, exactly as it would be POSTed (URLs never shown)."""
    if out.fmt == "json":
        out.data({"report": "notify-dry-run", "messages": previews}, "")
        return
    for p in previews:
        out.stdout.write(f"# {p['kind']} {p['key']} → {p['channel']} ({p['channel_kind']})\n")
        out.stdout.write(json.dumps(p["payload"], indent=2, ensure_ascii=False) + "\n")


def report_sending(out: Output, result: object, what: str) -> None:
    sent, failed, deferred = (getattr(result, k) for k in ("sent", "failed", "deferred"))
    for err in getattr(result, "errors", [])[:20]:
        out.detail(f"  {err}")
    out.message(f"{what}: {sent} sent, {failed} failed, {deferred} deferred")
    if failed or deferred:
        raise ServiceError(f"{failed + deferred} message(s) not delivered", "see `teamops notify list --status failed`")


def deliver(st: AppState, out: Output, messages: list[Any], no_send: bool) -> None:
    """Queue the command's notifications and deliver them, without failing the change itself."""
    from teamops.notify import queue_and_deliver

    if not messages:
        return
    ids, result = queue_and_deliver(st.db, st.config, messages, send=not no_send)
    if not ids:
        out.detail("  no channel is routed for this notification")
    elif no_send:
        out.message(f"notification queued ({len(ids)}): deliver with `teamops notify send`")
    else:
        line = f"notifications: {result.sent} sent, {result.failed} failed, {result.deferred} deferred"
        out.message(line if (result.failed or result.deferred) else line.split(",")[0])


@app.command("send")
def send(ctx: typer.Context, dry_run: DryRunOpt = False, fmt: FormatOpt = None) -> None:
    """Deliver every pending message of the outbox, oldest first; each one at most once."""
    from teamops.notify import send_pending

    st = state(ctx)
    out = st.output(fmt_value(fmt))
    result = send_pending(st.db, st.config, dry_run=dry_run)
    if dry_run:
        show_previews(out, result.previews)
        out.message(f"dry run: {len(result.previews)} pending message(s) shown; nothing was sent or recorded")
        return
    report_sending(out, result, "notify send")


@app.command("test")
def test(
    ctx: typer.Context,
    channel: Annotated[str, typer.Argument(help="A channel name from [notify.channels].")],
    dry_run: DryRunOpt = False,
    fmt: FormatOpt = None,
) -> None:
    """Send a test message to one channel now."""
    from teamops.messages import Message
    from teamops.notify import queue, resolve_channel, send_pending
    from teamops.store.database import now_iso

    st = state(ctx)
    out = st.output(fmt_value(fmt))
    cfg = st.config
    resolve_channel(cfg.notify, channel)  # exit 3 now when the channel or its URL is missing
    stamp = now_iso()
    msg = Message(
        kind="test",
        key=f"test:{channel}:{stamp}",
        title="teamops test message",
        text=f"If you can read this, channel *{channel}* works.",
        fields={"channel": channel, "sent": stamp},
    )
    if dry_run:
        from teamops.integrations.webhooks import render

        kind = cfg.notify.channels[channel].kind
        show_previews(
            out,
            [
                {
                    "kind": "test",
                    "key": msg.key,
                    "channel": channel,
                    "channel_kind": kind,
                    "payload": render(kind, msg),
                }
            ],
        )
        return
    ids = queue(st.db, cfg.notify, msg, channels=[channel])
    report_sending(out, send_pending(st.db, cfg, only_ids=ids), f"notify test {channel}")


@app.command("list")
def list_(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option("--status", help="pending, sent or failed.")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="A message kind, e.g. eod_reminder.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many, newest first.")] = 50,
    fmt: FormatOpt = None,
) -> None:
    """Show queued, sent and failed messages, newest first."""
    from teamops.errors import UsageError
    from teamops.notify import list_outbox

    if status and status not in ("pending", "sent", "failed"):
        raise UsageError(f"--status must be pending, sent or failed, not {status!r}")
    st = state(ctx)
    st.output(fmt_value(fmt)).report(
        Report(
            name="notify-list",
            rows=list_outbox(st.reader, status, kind, limit),
            columns=[
                Column("id", "#", numeric=True),
                Column("kind", "Kind"),
                Column("key", "Key"),
                Column("channel", "Channel"),
                Column("status", "Status"),
                Column("attempts", "Tries", numeric=True),
                Column("created_at", "Queued"),
                Column("sent_at", "Sent"),
                Column("last_error", "Last error", cut=True),
            ],
            meta={"status": status, "kind": kind},
            empty="the outbox is empty",
        )
    )
