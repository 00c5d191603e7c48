"""tests/check_report_browser.py: the HTML pages of `clunet eval --report`
and of a training run (RUN/report.html), opened in a real browser.

    python3 tests/check_report_browser.py CLUNET_EXE LOG_DIR

Makes a small synthetic dataset, trains a tiny model for 3 epochs on `ref`
(the run writes report.html every epoch), scores it with
`clunet eval --report`, then loads both pages in headless Chromium
(Debian's chromium + chromium-driver, driven by python3-selenium) and
asserts: no console errors (JavaScript errors, missing files); every
picture loaded; the eval page has one row per image, the precision chart,
the per-group table, and sorts by a column when its heading is clicked
(ascending, then descending); the training page has the curves, the
best-epoch line, one row per epoch and its validation overlays. A
screenshot of each page goes to LOG_DIR (report_eval.png, report_train.png)
for a person to look at.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def run(*cmd):
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    return out.stdout


def browser():
    o = Options()
    o.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--disable-gpu", "--window-size=1280,1600", "--allow-file-access-from-files"):
        o.add_argument(a)
    if os.geteuid() == 0:
        o.add_argument("--no-sandbox")
    o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)


def load(drv, path, shot):
    drv.get("file://" + os.path.abspath(path))
    errors = [e for e in drv.get_log("browser") if e.get("level") == "SEVERE"]
    check(not errors, f"{os.path.basename(path)}: no console errors {[e.get('message') for e in errors]}")
    # lazy pictures load when scrolled to: walk down the page, then wait for them
    height = drv.execute_script("return document.body.scrollHeight")
    for y in range(0, height + 800, 800):
        drv.execute_script(f"window.scrollTo(0, {y})")
    broken = []
    for _ in range(50):
        broken = drv.execute_script(
            "return Array.prototype.filter.call(document.images, function(i){"
            "return !i.complete || i.naturalWidth === 0;}).map(function(i){return i.src;});")
        if not broken:
            break
        time.sleep(0.1)
    drv.execute_script("window.scrollTo(0, 0)")
    check(not broken, f"{os.path.basename(path)}: every picture loaded (broken: {broken})")
    drv.save_screenshot(shot)
    print(f"screenshot: {shot}")


def column(drv, table, col):
    return drv.execute_script(
        f"return Array.prototype.map.call(document.querySelectorAll('#{table} tbody tr'),"
        f"function(r){{return parseFloat(r.cells[{col}].dataset.v);}});")


def check_eval_page(drv, page, n_images, shot):
    load(drv, page, shot)
    rows = len(drv.find_elements(By.CSS_SELECTOR, "#images tbody tr"))
    check(rows == n_images, f"eval page: {rows} image rows, {n_images} images")
    check(len(drv.find_elements(By.CSS_SELECTOR, "svg#precision-chart circle")) == 10,
          "eval page: the precision chart has a point per IoU threshold")
    check(len(drv.find_elements(By.CSS_SELECTOR, "#groups tbody tr")) >= 1, "eval page: the group table has rows")
    heads = [h.text for h in drv.find_elements(By.CSS_SELECTOR, "#images th")]
    dsb = heads.index("DSB")
    first = column(drv, "images", dsb)
    check(first == sorted(first), "eval page: rows start worst DSB score first")
    head = drv.find_elements(By.CSS_SELECTOR, "#images th")[heads.index("true")]
    head.click()
    up = column(drv, "images", heads.index("true"))
    head.click()
    down = column(drv, "images", heads.index("true"))
    check(up == sorted(up) and down == sorted(up, reverse=True),
          f"eval page: a click on 'true' sorts ascending, a second descending ({up} / {down})")


def check_train_page(drv, page, epochs, shot):
    load(drv, page, shot)
    check(len(drv.find_elements(By.CSS_SELECTOR, "img#curves")) == 1, "train page: the curves are shown")
    check("Best epoch" in drv.find_element(By.TAG_NAME, "body").text, "train page: the best epoch is named")
    rows = len(drv.find_elements(By.CSS_SELECTOR, "#epochs tbody tr"))
    check(rows == epochs, f"train page: {rows} epoch rows, {epochs} epochs")
    check(len(drv.find_elements(By.CSS_SELECTOR, ".grid figure img")) >= 1,
          "train page: validation overlays of the best model")


def main():
    exe, logdir = sys.argv[1], sys.argv[2]
    os.makedirs(logdir, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="clunet-report-")
    try:
        env_dev = ["--device", "ref"]
        run(exe, "synth", "--out", f"{tmp}/data", "--count", "24", "--size", "48x48", "--seed", "3", "--quiet")
        run(exe, *env_dev, "train", "--data", f"{tmp}/data", "-s", "32", "-c", "0.125", "-e", "3",
            "--val-split", "0.25", "--out", f"{tmp}/run", "-q")
        run(exe, *env_dev, "eval", f"{tmp}/run/best.safetensors", f"{tmp}/data", "--out", f"{tmp}/eval",
            "--report", f"{tmp}/html", "-q")
        n_images = len(os.listdir(f"{tmp}/data/stage1_train"))
        drv = browser()
        try:
            check_eval_page(drv, f"{tmp}/html/index.html", n_images, os.path.join(logdir, "report_eval.png"))
            check_train_page(drv, f"{tmp}/run/report.html", 3, os.path.join(logdir, "report_train.png"))
        finally:
            drv.quit()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
