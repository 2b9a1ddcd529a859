"""`python -m bench.stage1`: the cost of the stage-1 pseudonym digest (PBKDF2-HMAC-SHA-256) on this
machine.

Milliseconds per digest (median of 5) for a few iteration counts: Python's hashlib (the server, for
the form without JavaScript), Chromium's WebCrypto (the logging page) and the plain-JavaScript
fallback (static/js/sha256.js, pages without crypto.subtle). The README's "Cost" paragraph gives the
figures this printed on the test machine and how OUTREACH_PSEUDONYM_ITERATIONS was chosen from them.
"""
import hashlib
import shutil
import statistics
import time
from pathlib import Path

COUNTS = (100_000, 200_000, 300_000, 600_000)
PASSWORD, SALT = "Q|ZORGLUBIX|1977|M", "plan-crack-paris-2019"
FALLBACK = Path(__file__).resolve().parent.parent / "static" / "js" / "sha256.js"
BROWSER = """async ([password, salt, n, fallback]) => {
  const E = new TextEncoder(), t = performance.now();
  if (fallback) { window.outreachPbkdf2(password, salt, n); return performance.now() - t; }
  const key = await crypto.subtle.importKey("raw", E.encode(password), "PBKDF2", false,
                                            ["deriveBits"]);
  await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt: E.encode(salt), iterations: n }, key, 256);
  return performance.now() - t;
}"""


def _median_ms(run):
    return round(statistics.median(run() for _ in range(5)), 1)


def _python(n):
    start = time.perf_counter()
    hashlib.pbkdf2_hmac("sha256", PASSWORD.encode(), SALT.encode(), n)
    return (time.perf_counter() - start) * 1000


def main():
    from playwright.sync_api import sync_playwright
    rows = {"python hashlib": [_median_ms(lambda n=n: _python(n)) for n in COUNTS]}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"),
                                    args=["--headless", "--no-sandbox"])
        page = browser.new_page()
        page.route("http://127.0.0.1:9/",
                   lambda route: route.fulfill(body="<p>stage 1</p>", content_type="text/html"))
        page.goto("http://127.0.0.1:9/")  # a secure context: crypto.subtle exists
        page.add_script_tag(content=FALLBACK.read_text())
        for label, fallback in (("chromium webcrypto", False), ("chromium sha256.js", True)):
            rows[label] = ([_median_ms(lambda n=n, f=fallback: page.evaluate(
                BROWSER, [PASSWORD, SALT, n, f])) for n in COUNTS])
        browser.close()
    print(f"{'ms per digest':<20}" + "".join(f"{n:>10,}" for n in COUNTS))
    for label, values in rows.items():
        print(f"{label:<20}" + "".join(f"{v:>10}" for v in values))


if __name__ == "__main__":
    main()
