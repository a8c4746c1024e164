#!/usr/bin/python3
"""The dashboard in headless Chromium, against a real broker and ledgerq-web.

Submits real jobs (one failed) with the ledgerq CLI, then through the page:
sees them in the list, opens the failed job (its record, body and history)
and retries it by its id until it shows `retrying` and a retry event (the
other failed job untouched), deletes another job by its id, and pauses and
resumes a datasource, checking each change with the broker itself. Exits 77 (skipped) when Chromium or its driver is absent.

usage: browser_test.py BROKER WEB CLI [--screenshot PATH]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

SKIP = 77


def start(args, ready_prefix):
    """Starts a process that prints one ready line; returns (process, line)."""
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if not line.startswith(ready_prefix):
        proc.kill()
        sys.exit(f"{args[0]} did not become ready: {line!r}")
    return proc, line.strip()


def field(line, key):
    return line.split(key, 1)[1].split(" ", 1)[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("broker")
    ap.add_argument("web")
    ap.add_argument("cli")
    ap.add_argument("--screenshot", help="save a PNG of the overview here (and of a job beside it, as NAME-job.png)")
    a = ap.parse_args()

    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not driver_path:
        print("SKIP: chromium and chromium-driver are not installed (tools/dev.sh installs them)")
        return SKIP
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    procs = []
    with tempfile.TemporaryDirectory(prefix="ledgerq-web-") as tmp:
        try:
            broker, line = start([a.broker, "--data", os.path.join(tmp, "data"), "--log-level", "warn",
                                  "--router", "tcp://127.0.0.1:*", "--status-pub", "tcp://127.0.0.1:*",
                                  "--requests-pub", "tcp://127.0.0.1:*"], "ledgerq-broker ready:")
            procs.append(broker)
            router = field(line, "router=")
            env = dict(os.environ, LEDGERQ_ROUTER=router, LEDGERQ_CLIENT="app-1")

            def cli(*args):
                out = subprocess.run([a.cli, "--json", *args], env=env, capture_output=True, text=True)
                if out.returncode != 0:
                    sys.exit(f"ledgerq {' '.join(args)}: {out.stderr}")
                return json.loads(out.stdout) if out.stdout.strip() else None

            def paused(ds):
                for d in cli("ds", "list")["datasources"]:
                    if d["datasource"] == ds:
                        return d["options"].get("paused", False)

            cli("ds", "create", "images")
            cli("ds", "create", "reports")
            for i in range(1, 7):
                cli("submit", "images", f"resize-{i}", "--body", json.dumps({"src": f"s3://photos/{i}.jpg", "w": 640}),
                    "--priority", str(1 + i % 3))
            cli("submit", "images", "<img src=x onerror=alert(1)>", "--body", '"<b>not markup</b>"')
            cli("submit", "reports", "monthly-2026-11", "--body", '{"month":"2026-11"}', "--key", "acme")
            cli("call", "dequeue", "--body", json.dumps({"datasource": "images", "worker": "resizer-1", "limit": 2}))
            cli("update", "images", "resize-1", "complete", "--response", '{"url":"s3://thumbs/1.jpg"}')
            cli("update", "images", "resize-2", "failed", "--error", "source image not found")
            cli("update", "images", "resize-3", "failed", "--error", "out of memory")

            web, line = start([a.web, "--listen", "127.0.0.1:0", "--router", router, "--timeout", "500ms"],
                              "ledgerq-web ready:")
            procs.append(web)
            url = line.split(" ")[2]

            options = webdriver.ChromeOptions()
            options.binary_location = chromium
            for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,900"):
                options.add_argument(flag)
            driver = webdriver.Chrome(service=Service(driver_path), options=options)
            try:
                wait = WebDriverWait(driver, 15)

                def text_of(css):
                    try:
                        elems = driver.find_elements(By.CSS_SELECTOR, css)
                        return elems[0].text if elems else None
                    except StaleElementReferenceException:  # redrawn meanwhile (every 2 s)
                        return None

                def until_text(css, want):
                    try:
                        wait.until(lambda d: text_of(css) == want)
                    except Exception:
                        logs = [e["message"] for e in driver.get_log("browser")]
                        sys.exit(f"{css} never showed {want!r}: it shows {text_of(css)!r}; the page's error box: "
                                 f"{text_of('#error')!r}; its console: {logs}; at {driver.current_url}")

                def click(css):
                    # The page redraws its data every 2 s: an element found
                    # just before a redraw is gone by the click; find it again.
                    def clicked(d):
                        try:
                            d.find_element(By.CSS_SELECTOR, css).click()
                            return True
                        except (NoSuchElementException, StaleElementReferenceException):
                            return False
                    wait.until(clicked, f"no {css} to click")

                # The overview: every datasource with its counts.
                driver.get(url)
                until_text('tr[data-ds="images"] a[data-count="failed"]', "2")
                until_text('tr[data-ds="images"] td.state', "running")
                if a.screenshot:
                    driver.save_screenshot(a.screenshot)

                # The job list: the submitted jobs, ids shown as text.
                click('tr[data-ds="images"] td a')
                wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, 'tr[data-job="resize-5"]'))
                until_text('tr[data-job="resize-5"] td.status', "submitted")
                until_text('tr[data-job="<img src=x onerror=alert(1)>"] td a', "<img src=x onerror=alert(1)>")

                # The failed job: open it, retry, see it retrying.
                click('tr[data-job="resize-2"] td a')
                until_text("#job-status", "failed")
                until_text("#field-error", "source image not found")
                # Its history: every event with its time, oldest first.
                until_text('#history-table tr[data-event="submit"] td:nth-child(2)', "submit")
                until_text('#history-table tr[data-event="status"] td:nth-child(2)', "status")
                if '"w": 640' not in text_of("#request-json"):
                    sys.exit("the job's body is not shown: " + text_of("#request-json"))
                # "Retry this job": by its id, so the other failed job stays failed.
                click('button[data-action="retry-job"]')
                until_text("#job-status", "retrying")
                until_text("#notice-text", "Retried job resize-2.")
                until_text('#history-table tr[data-event="retry"] td:nth-child(2)', "retry")
                status = {j["job"]: j["status"] for j in cli("lookup", "images", "resize-2", "resize-3")["jobs"]}
                if status != {"resize-2": "retrying", "resize-3": "failed"}:
                    sys.exit(f"retry by id touched other jobs: {status}")
                if a.screenshot:
                    driver.save_screenshot(a.screenshot.replace(".png", "-job.png"))

                # "Delete this job", confirmed: the job is gone, the list shown.
                driver.get(url + "#/job/images/resize-3")
                until_text("#job-status", "failed")
                driver.execute_script("window.confirm = () => true;")
                click('button[data-action="delete-job"]')
                until_text("#notice-text", "Deleted job resize-3.")
                wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, 'tr[data-job="resize-5"]'))
                left = [j["job"] for j in cli("lookup", "images", "resize-2", "resize-3")["jobs"]]
                if left != ["resize-2"]:
                    sys.exit(f"delete by id: the broker still has {left}")

                # Pause and resume a datasource, as the broker sees it.
                driver.get(url + "#/")
                click('button[data-action="pause"][data-ds="images"]')
                until_text('tr[data-ds="images"] td.state', "paused")
                assert paused("images") is True
                click('button[data-action="resume"][data-ds="images"]')
                until_text('tr[data-ds="images"] td.state', "running")
                assert paused("images") is False

                # A link with a broken escape opens the overview, not a blank page.
                driver.get("about:blank")
                driver.get(url + "#/job/images/%E0%A4%")
                until_text('tr[data-ds="images"] td.state', "running")

                # The broker goes away: the page says so.
                broker.kill()
                broker.wait()
                wait.until(lambda d: "Broker unreachable" in (text_of("#error") or ""), "no error shown without a broker")
            finally:
                driver.quit()
            web.terminate()  # SIGTERM: a clean stop
            if web.wait(timeout=10) != 0:
                sys.exit(f"ledgerq-web exited {web.returncode} on SIGTERM")
        finally:
            for p in procs:
                p.kill()
                p.wait()
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
