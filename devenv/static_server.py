"""A static file server that sends a file's pre-compressed `.gz` copy when it can.

The site build writes `name.gz` beside each text and tile file; a browser that
accepts gzip gets those bytes with `Content-Encoding: gzip` and the plain file's
type, as CloudFront serves the uploaded site. Run as
`python -m devenv.static_server PORT --directory DIR [--bind HOST]`.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

from batch_jobs.site_data import GZIP_SUFFIX, content_type

logger = logging.getLogger(__name__)


def accepts_gzip(header: str | None) -> bool:
    """Whether an Accept-Encoding header allows gzip (and does not give it q=0)."""
    for part in (header or "").split(","):
        token, _, params = part.strip().partition(";")
        if token.strip().lower() in ("gzip", "*"):
            quality = params.strip().lower().replace(" ", "")
            return quality not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


class PrecompressedHandler(SimpleHTTPRequestHandler):
    """SimpleHTTPRequestHandler, plus `.gz` copies and no directory listings."""

    def send_head(self):
        path = self.translate_path(self.path)
        packed = path + GZIP_SUFFIX
        if (
            os.path.isfile(path)
            and os.path.isfile(packed)
            and accepts_gzip(self.headers.get("Accept-Encoding"))
        ):
            handle = open(packed, "rb")  # noqa: SIM115 - copyfile closes it
            try:
                size = os.fstat(handle.fileno()).st_size
                self.send_response(HTTPStatus.OK)
                self.send_header("Content-Type", content_type(path))
                self.send_header("Content-Encoding", "gzip")
                self.send_header("Content-Length", str(size))
                self.send_header("Vary", "Accept-Encoding")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                return handle
            except BaseException:
                handle.close()
                raise
        if os.path.isdir(path) and not os.path.isfile(os.path.join(path, "index.html")):
            self.send_error(HTTPStatus.NOT_FOUND, "No directory listings")
            return None
        return super().send_head()

    def guess_type(self, path):
        return content_type(str(path))

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        logger.debug("%s - %s", self.address_string(), format % args)


def main(argv: list[str] | None = None) -> int:
    """Serve a folder until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("port", type=int)
    parser.add_argument("--directory", required=True)
    parser.add_argument("--bind", default="127.0.0.1")
    args = parser.parse_args(argv)
    handler = partial(PrecompressedHandler, directory=args.directory)
    with ThreadingHTTPServer((args.bind, args.port), handler) as server:
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
