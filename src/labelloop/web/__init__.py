"""The web app: the built single-page app (from `frontend/`), served with strict security headers.

The pages are static files; everything they show comes from the public HTTP API, with the
browser session cookie. `make web` builds them into `dist/` here (not committed).
"""

from labelloop.web.static import DIST_DIR, WEB_PREFIX, mount_web

__all__ = ["DIST_DIR", "WEB_PREFIX", "mount_web"]
