"""Serve the trained model over HTTP: extraction (JATS, TEI, JSON), GROBID's paths, a page.

    python -m sciencebeam_gym.service.cli --model .models/pix2pix/v4-default/export --port 8080

Then open http://127.0.0.1:8080/ (the page), http://127.0.0.1:8080/api/docs (the API), or
    curl -H 'Accept: application/json' --data-binary @paper.pdf \\
        -H 'Content-Type: application/pdf' http://127.0.0.1:8080/api/convert

The model (--model, else --export_path: EXPORT_MODEL_PATH in serve.sh) is loaded once in each of
--workers processes before the server listens. The server listens on the loopback interface
unless --host says otherwise; it has no authentication. See doc/serve.md.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import os
import sys
from collections.abc import Sequence

from sciencebeam_gym import cli
from sciencebeam_gym.service.limits import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_PAGES,
    DEFAULT_TIMEOUT,
    DEFAULT_WORKERS,
    Limits,
    parse_size,
)
from sciencebeam_gym.service.pool import DEFAULT_LOADER, PoolError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
# Connections beyond this many get uvicorn's 503 before any body is read.
DEFAULT_MAX_CONNECTIONS = 64


def size(text: str) -> int:
    try:
        return parse_size(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from error


def build_parser() -> argparse.ArgumentParser:
    parser = cli.ArgumentParser(
        prog="serve.sh", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"interface ({DEFAULT_HOST})")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"({DEFAULT_PORT})")
    parser.add_argument("--model", default="", help="an export of save-model.sh")
    parser.add_argument("--export_path", default="", help="the export used without --model")
    parser.add_argument(
        "--workers", type=int, default=DEFAULT_WORKERS, help="worker processes, each with the model"
    )
    parser.add_argument(
        "--queue", type=int, default=-1, help="requests that may wait (2 x workers)"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help="seconds per request, waiting included",
    )
    parser.add_argument(
        "--max_bytes", type=size, default=DEFAULT_MAX_BYTES, help="largest body (50MB)"
    )
    parser.add_argument(
        "--max_pages", type=int, default=DEFAULT_MAX_PAGES, help="most pages read per request"
    )
    parser.add_argument(
        "--dpi", type=float, default=None, help="render resolution (the model's training pages')"
    )
    parser.add_argument(
        "--max_connections", type=int, default=DEFAULT_MAX_CONNECTIONS, help="open at once (64)"
    )
    parser.add_argument(
        "--loader",
        default=DEFAULT_LOADER,
        help="module:function that loads --model in a worker (function(model, dpi=...))",
    )
    return parser


def check_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    for name, low in (("workers", 1), ("queue", -1), ("max_pages", 1), ("max_connections", 1)):
        if getattr(args, name) < low:
            parser.error(f"--{name} must be >= {low}, got {getattr(args, name)}")
    if args.timeout <= 0 or args.max_bytes <= 0 or (args.dpi is not None and args.dpi <= 0):
        parser.error("--timeout, --max_bytes and --dpi must be > 0")


def chosen_model(args: argparse.Namespace) -> str:
    """--model, else the configured export; a local one must exist."""
    model = args.model or args.export_path
    if not model:
        raise cli.CliError("no model: pass --model EXPORT (a folder written by ./save-model.sh)")
    if "://" not in model and not os.path.exists(model):
        flag = "--model" if args.model else "EXPORT_MODEL_PATH (--export_path)"
        raise cli.CliError(
            f"no model at {model} ({flag}): run ./save-model.sh first, or pass --model EXPORT"
        )
    return model


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def settings_from_args(args: argparse.Namespace, model: str):
    from sciencebeam_gym.service.app import ServiceSettings

    threads = max(1, (os.cpu_count() or 1) // args.workers) if args.workers > 1 else 0
    limits = Limits(max_bytes=args.max_bytes, max_pages=args.max_pages, timeout=args.timeout)
    queue = 2 * args.workers if args.queue < 0 else args.queue
    return ServiceSettings(
        model, args.loader, args.dpi, args.workers, queue, threads=threads, limits=limits
    )


async def serve(settings, host: str, port: int, max_connections: int) -> int:
    """Start the workers (the model loads), then serve until Ctrl-C; the workers stop last."""
    import uvicorn

    from sciencebeam_gym.service.app import create_app

    pool = settings.pool()
    print(f"serve: loading {settings.model} in {settings.workers} worker(s)", flush=True)
    try:
        await pool.start()
    except PoolError as error:
        return cli.report_error(error, cli.EXIT_USAGE)
    config = uvicorn.Config(
        create_app(settings, pool),
        host=host,
        port=port,
        limit_concurrency=max_connections,
        timeout_graceful_shutdown=5,
        log_level="info",
    )
    try:
        await uvicorn.Server(config).serve()
    finally:
        await pool.stop()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    check_args(parser, args)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    if not is_loopback(args.host):
        print(
            f"warning: listening on {args.host}: anyone who can reach this machine can use the "
            "service, which has no authentication (put it behind a proxy that has)",
            file=sys.stderr,
        )
    try:
        model = chosen_model(args)
    except cli.CliError as error:
        return cli.report_error(error)
    settings = settings_from_args(args, model)
    try:
        return asyncio.run(serve(settings, args.host, args.port, args.max_connections))
    except KeyboardInterrupt:  # uvicorn hands the Ctrl-C it stopped on back to Python
        print("serve: stopped", file=sys.stderr)
        return cli.EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
