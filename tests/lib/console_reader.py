"""A guest's console, as a test reads it: a thread takes what the console
stream (virDomainOpenConsole) gives, so a read waits at most its timeout,
also when the guest or the stream goes silent. (A stream's recv blocks until
data comes or the stream ends; a silent console would otherwise hold the
test until the domain is destroyed.)"""
import queue
import re
import threading
import time


class ConsoleReader:
    """Reads console stream st in a daemon thread; read_until waits for a
    pattern with a deadline. What came after a match is kept for the next
    read. The thread ends with the stream (the domain's destroy ends it)."""

    def __init__(self, st, describe=None):
        self.st = st
        # called on a timeout: says what the test knows of the domain then
        self.describe = describe
        self.chunks = queue.Queue()
        self.buf = b""
        self.ended = None
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        try:
            while True:
                chunk = self.st.recv(4096)
                self.chunks.put(chunk)
                if not chunk:
                    return
        except Exception as e:  # noqa: BLE001 - the reader reports it
            self.chunks.put(e)

    def send(self, data):
        self.st.send(data)

    def _state(self):
        if not self.describe:
            return ""
        try:
            return "; " + self.describe()
        except Exception as e:  # noqa: BLE001 - a diagnostic only
            return f"; (the domain's state could not be read: {e})"

    def _probe(self):
        """After a timeout: whether the console still answers a newline
        (a shell prompt within 10 s), which tells a command that hangs from
        a console that stopped carrying bytes."""
        try:
            self.st.send(b"\n")
            chunk = self.chunks.get(timeout=10)
        except queue.Empty:
            return "; the console did not answer a newline in 10 s"
        except Exception as e:  # noqa: BLE001 - a diagnostic only
            return f"; a newline could not be sent: {e}"
        return f"; the console answered a newline with {chunk!r}"

    def read_until(self, want, timeout=60):
        """Reads until the bytes regular expression want matches; returns
        what was read up to the end of the match."""
        deadline = time.monotonic() + timeout
        while True:
            m = re.search(want, self.buf)
            if m:
                out, self.buf = self.buf[:m.end()], self.buf[m.end():]
                return out
            assert self.ended is None, f"the console ended ({self.ended}) before {want!r}; got {self.buf[-800:]!r}"
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {want!r} on the console in {timeout} s; got {self.buf[-800:]!r}"
                                     f"{self._state()}{self._probe()}")
            try:
                chunk = self.chunks.get(timeout=left)
            except queue.Empty:
                continue
            if isinstance(chunk, Exception):
                self.ended = repr(chunk)
            elif not chunk:
                self.ended = "end of stream"
            else:
                self.buf += chunk
