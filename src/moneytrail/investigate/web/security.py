"""Sessions, CSRF and login throttling for the workbench.

- The session cookie is an opaque random token (only its hash is stored), HttpOnly, SameSite=Strict,
  and Secure when the server is told it sits behind HTTPS.
- Every state-changing request (POST, PUT, PATCH, DELETE) must carry the session's CSRF token in the
  ``X-CSRF-Token`` header; the login itself must be JSON from the same origin.
- Failed logins are counted per user name and per client address; past the limit, logins are refused
  with 429 until the window passes.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque

SESSION_COOKIE = "mt_session"
CSRF_HEADER = "X-CSRF-Token"
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ROLE_RANK = {"analyst": 1, "supervisor": 2, "admin": 3}


def role_at_least(role: str, needed: str) -> bool:
    """True when ``role`` has the rights of ``needed`` (admin > supervisor > analyst)."""
    return ROLE_RANK.get(role, 0) >= ROLE_RANK[needed]


class LoginThrottle:
    """At most ``limit`` failed logins per user name and per client within ``window_s`` seconds."""

    def __init__(self, limit: int = 5, window_s: float = 300.0, clock=time.monotonic):
        self.limit = limit
        self.window_s = window_s
        self.clock = clock
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _keys(self, username: str, client: str) -> list[str]:
        return [f"user:{username.lower()}", f"client:{client}"]

    def _prune(self, q: deque[float], now: float) -> None:
        while q and now - q[0] > self.window_s:
            q.popleft()

    def retry_after(self, username: str, client: str) -> int:
        """Seconds until a login may be tried again; 0 when allowed now."""
        now = self.clock()
        wait = 0.0
        with self._lock:
            for k in self._keys(username, client):
                q = self._failures[k]
                self._prune(q, now)
                if len(q) >= self.limit:
                    wait = max(wait, self.window_s - (now - q[0]))
        return int(wait) + 1 if wait > 0 else 0

    def failed(self, username: str, client: str) -> None:
        now = self.clock()
        with self._lock:
            for k in self._keys(username, client):
                self._failures[k].append(now)

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._failures.pop(f"user:{username.lower()}", None)
