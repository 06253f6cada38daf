"""The page's HTML, CSS and JavaScript as `string.Template`s: no build step, no external
assets. Values are escaped by webhook.http.ui.render before they are substituted."""

from __future__ import annotations

from string import Template

CSS = """
:root { color-scheme: light dark; --fg: #1d2329; --muted: #5b6670; --line: #d6dbe0;
  --bg: #ffffff; --panel: #f5f7f9; --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700;
  --run: #0969da; --off: #6e7781; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --muted: #9aa5b1;
  --line: #30363d; --bg: #0d1117; --panel: #161b22; } }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; gap: 1rem; align-items: center; padding: .6rem 1.2rem;
  border-bottom: 1px solid var(--line); background: var(--panel); }
header .brand { font-weight: 700; color: inherit; text-decoration: none; }
header form { margin-left: auto; }
main { padding: 1rem 1.2rem 3rem; max-width: 1400px; }
h1 { font-size: 1.4rem; margin: .2rem 0 1rem; } h2 { font-size: 1.1rem; margin-top: 1.6rem; }
a { color: var(--run); } code { font: 13px ui-monospace, monospace; }
.stacks { display: flex; flex-wrap: wrap; gap: 1rem; }
.stack { border: 1px solid var(--line); border-radius: 6px; padding: .6rem 1rem; min-width: 280px;
  background: var(--panel); } .stack h3 { margin: 0 0 .4rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 0; }
dt { color: var(--muted); } dd { margin: 0; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line);
  vertical-align: top; } th { color: var(--muted); font-weight: 600; white-space: nowrap; }
td.note { color: var(--muted); max-width: 28rem; }
.state { display: inline-block; padding: 0 .45rem; border-radius: 1rem; font-size: 12px;
  font-weight: 600; color: #fff; background: var(--off); white-space: nowrap; }
.s-succeeded { background: var(--ok); } .s-rolled_back { background: var(--warn); }
.s-failed, .s-rollback_failed, .s-interrupted { background: var(--bad); }
.s-running, .s-verifying, .s-rolling_back { background: var(--run); }
.s-queued { background: #8250df; }
.d-in_sync { color: var(--ok); } .d-drifted, .d-failed { color: var(--bad); font-weight: 600; }
.d-not_checked { color: var(--muted); } ul.drift { margin: .2rem 0 0; padding-left: 1.1rem; }
nav.pages { display: flex; gap: 1rem; margin-top: .8rem; }
#log { font: 12.5px/1.5 ui-monospace, monospace; background: var(--panel);
  border: 1px solid var(--line); border-radius: 6px; padding: .5rem .8rem; max-height: 70vh;
  overflow: auto; white-space: pre-wrap; word-break: break-word; }
#log .line time { color: var(--muted); margin-right: .8rem; }
#live { font-size: 12px; color: var(--run); } #live.done { color: var(--muted); }
button { font: inherit; padding: .3rem .8rem; border-radius: 6px; border: 1px solid var(--line);
  background: var(--panel); color: inherit; cursor: pointer; }
button.danger { border-color: var(--bad); color: var(--bad); }
dialog { border: 1px solid var(--line); border-radius: 8px; max-width: 34rem;
  background: var(--bg); color: var(--fg); }
dialog input { width: 100%; font: inherit; padding: .3rem; margin: .3rem 0 .6rem; }
.error { color: var(--bad); } .muted { color: var(--muted); }
.login { max-width: 26rem; margin: 4rem auto; } .login input { width: 100%; padding: .4rem;
  font: inherit; margin: .4rem 0 .8rem; }
"""

JS = """
(function () {
  "use strict";
  var full = {year: "numeric", month: "short", day: "numeric", hour: "2-digit",
    minute: "2-digit", second: "2-digit", timeZoneName: "short"};
  function localTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      var at = new Date(el.getAttribute("datetime"));
      if (isNaN(at.getTime())) { return; }
      el.title = el.getAttribute("datetime");
      el.textContent = el.dataset.format === "time" ? at.toLocaleTimeString() :
        at.toLocaleString(undefined, full);
    });
  }
  localTimes(document);
  var meta = document.querySelector('meta[name="slipway-csrf"]');
  var csrf = meta ? meta.content : "";

  var dialog = document.getElementById("rollback-dialog");
  var open = document.getElementById("rollback-open");
  if (dialog && open) {
    var error = document.getElementById("rollback-error");
    open.addEventListener("click", function () { error.textContent = ""; dialog.showModal(); });
    document.getElementById("rollback-cancel").addEventListener("click", function () {
      dialog.close();
    });
    document.getElementById("rollback-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var reason = document.getElementById("rollback-reason").value;
      fetch(open.dataset.url, {method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-Slipway-CSRF": csrf},
        body: JSON.stringify({reason: reason})})
        .then(function (response) {
          return response.json().then(function (body) { return [response.status, body]; });
        })
        .then(function (answer) {
          if (answer[0] === 202) { location.href = "/ui/deployments/" + answer[1].id; return; }
          error.textContent = answer[1].detail || answer[1].error || ("HTTP " + answer[0]);
        })
        .catch(function (failure) { error.textContent = String(failure); });
    });
  }

  var force = document.getElementById("force-dialog");
  var forceOpen = document.getElementById("force-open");
  if (force && forceOpen) {
    var forceError = document.getElementById("force-error");
    forceOpen.addEventListener("click", function () {
      forceError.textContent = "";
      force.showModal();
    });
    document.getElementById("force-cancel").addEventListener("click", function () {
      force.close();
    });
    document.getElementById("force-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var reason = document.getElementById("force-reason").value;
      fetch("/deployments", {method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-Slipway-CSRF": csrf},
        body: JSON.stringify({sha: forceOpen.dataset.sha, ref: forceOpen.dataset.ref,
          force: true, reason: reason || "full up asked for on the deployments page"})})
        .then(function (response) {
          return response.json().then(function (body) { return [response.status, body]; });
        })
        .then(function (answer) {
          if (answer[0] === 202) { location.href = "/ui/deployments/" + answer[1].id; return; }
          forceError.textContent = answer[1].detail || ("HTTP " + answer[0]);
        })
        .catch(function (failure) { forceError.textContent = String(failure); });
    });
  }

  var reconcile = document.getElementById("reconcile-dialog");
  if (reconcile) {
    var reconcileUrl = "";
    var reconcileError = document.getElementById("reconcile-error");
    document.querySelectorAll(".reconcile-open").forEach(function (button) {
      button.addEventListener("click", function () {
        reconcileUrl = button.dataset.url;
        document.getElementById("reconcile-stack").textContent = button.dataset.stack;
        document.getElementById("reconcile-sha").textContent = button.dataset.sha;
        reconcileError.textContent = "";
        reconcile.showModal();
      });
    });
    document.getElementById("reconcile-cancel").addEventListener("click", function () {
      reconcile.close();
    });
    document.getElementById("reconcile-form").addEventListener("submit", function (event) {
      event.preventDefault();
      fetch(reconcileUrl, {method: "POST", credentials: "same-origin",
        headers: {"X-Slipway-CSRF": csrf}})
        .then(function (response) {
          return response.json().then(function (body) { return [response.status, body]; });
        })
        .then(function (answer) {
          if (answer[0] === 202) { location.href = "/ui/deployments/" + answer[1].id; return; }
          reconcileError.textContent = answer[1].detail || ("HTTP " + answer[0]);
        })
        .catch(function (failure) { reconcileError.textContent = String(failure); });
    });
  }

  var log = document.getElementById("log");
  if (log && log.dataset.events) {
    var live = document.getElementById("live");
    var state = document.getElementById("state");
    var source = new EventSource(log.dataset.events);
    source.addEventListener("line", function (event) {
      var item = JSON.parse(event.data);
      var atEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 30;
      var row = document.createElement("div");
      row.className = "line";
      row.dataset.seq = item.seq;
      var time = document.createElement("time");
      time.setAttribute("datetime", item.at);
      time.dataset.format = "time";
      row.appendChild(time);
      row.appendChild(document.createTextNode(item.line));
      log.appendChild(row);
      localTimes(row);
      if (atEnd) { log.scrollTop = log.scrollHeight; }
    });
    source.addEventListener("state", function (event) {
      var item = JSON.parse(event.data);
      state.textContent = item.state;
      state.className = "state s-" + item.state;
    });
    source.addEventListener("end", function () {
      source.close();
      live.textContent = "finished";
      live.className = "done";
      // The facts (ran for, rollback) and the state table as the server renders them now:
      // the page shows the final deployment without a reload.
      fetch(location.href, {credentials: "same-origin"})
        .then(function (response) { return response.ok ? response.text() : ""; })
        .then(function (text) {
          var fresh = new DOMParser().parseFromString(text, "text/html");
          ["facts", "history"].forEach(function (id) {
            var shown = document.getElementById(id), now = fresh.getElementById(id);
            if (shown && now) { shown.innerHTML = now.innerHTML; localTimes(shown); }
          });
        });
    });
  }
})();
"""

PAGE = Template(
    """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="slipway-csrf" content="$csrf">
<title>$title · Slipway</title><style nonce="$nonce">$css</style></head>
<body><header><a class="brand" href="/ui">Slipway</a><span class="muted">deployments</span>
$logout</header>
<main>$body</main>
<script nonce="$nonce">$js</script></body></html>
"""
)

LOGOUT = Template(
    """<form method="post" action="/ui/logout"><input type="hidden" name="csrf" value="$csrf">
<button type="submit">Log out</button></form>"""
)

LOGIN = Template(
    """<section class="login"><h1>Sign in</h1>
<p class="muted">The deployments page takes the service's API token
(<code>SLIPWAY_API_TOKEN</code>).</p>
<form method="post" action="/ui/login"><input type="hidden" name="next" value="$next">
<label for="token">API token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<p class="error" role="alert">$error</p>
<button type="submit">Sign in</button></form></section>"""
)

LIST = Template(
    """<h1>Deployments</h1>
<section class="stacks">$stacks</section>$dialog
<h2>History</h2>
<table class="history"><thead><tr><th>#</th><th>stack</th><th>kind</th><th>commit</th>
<th>state</th><th>trigger</th><th>queued</th><th>ran for</th><th>rollback</th><th>note</th>
</tr></thead>
<tbody>$rows</tbody></table>
<nav class="pages">$pages</nav>"""
)

STACK = Template(
    """<article class="stack" data-stack="$stack"><h3>$stack</h3><dl>
<dt>deployed</dt><dd>$deployed</dd>
<dt>healthy since</dt><dd>$since</dd>
<dt>latest</dt><dd>$latest</dd>
<dt>drift</dt><dd>$drift</dd></dl>$reconcile</article>"""
)

DRIFT = Template("""<span class="drift d-$state" data-drift="$state">$text</span>$resources""")

DRIFT_RESOURCE = Template("""<li><code>$name</code> $change$fields</li>""")

RECONCILE = Template(
    """<p><button class="reconcile-open" type="button" data-url="/stacks/$stack/reconcile"
data-stack="$stack" data-sha="$short">Reconcile</button></p>"""
)

RECONCILE_DIALOG = """<dialog id="reconcile-dialog"><form id="reconcile-form">
<p>Deploy <code id="reconcile-sha"></code>, the healthy commit of stack
<b id="reconcile-stack"></b>, again, reading the engine first? What was changed by hand is
put back; containers made by hand under the stack's names are removed; a removed volume
comes back empty. This queues a deployment now.</p>
<p id="reconcile-error" class="error" role="alert"></p>
<button type="button" id="reconcile-cancel">Cancel</button>
<button type="submit" id="reconcile-confirm" class="danger">Reconcile</button>
</form></dialog>"""

ROW = Template(
    """<tr data-id="$id"><td><a href="/ui/deployments/$id">#$id</a></td><td>$stack</td>
<td>$kind</td><td><code title="$sha">$short</code></td>
<td><span class="state s-$state">$state</span></td><td>$trigger</td><td>$queued</td>
<td>$duration</td><td>$rollback</td><td class="note">$note</td></tr>"""
)

DETAIL = Template(
    """<p><a href="/ui">← all deployments</a></p>
<h1>Deployment #$id <span id="state" class="state s-$state">$state</span></h1>
<dl class="facts" id="facts">
<dt>stack</dt><dd>$stack</dd><dt>kind</dt><dd>$kind</dd>
<dt>commit</dt><dd><code>$sha</code> $ref</dd>
<dt>trigger</dt><dd>$trigger: $reason</dd>
<dt>queued</dt><dd>$queued</dd><dt>ran for</dt><dd>$duration</dd>
<dt>rollback</dt><dd>$rollback</dd></dl>
$waiting$rollback_action$force_action
<h2>States</h2>
<table><thead><tr><th>state</th><th>at</th><th>note</th></tr></thead>
<tbody id="history">$history</tbody>
</table>
<h2>Log <span id="live" class="$live_class">$live</span></h2>
<div id="log" data-events="$events">$lines</div>"""
)

CHANGE = Template(
    """<tr><td><span class="state s-$state">$state</span></td><td>$at</td>
<td class="note">$note</td></tr>"""
)

LINE = Template("""<div class="line" data-seq="$seq">$at$text</div>""")

ROLLBACK = Template(
    """<p><button id="rollback-open" class="danger" data-url="/deployments/$id/rollback"
type="button">Roll back to $short</button>
<span class="muted">the last healthy commit before this deployment (#$good_id)</span></p>
<dialog id="rollback-dialog"><form id="rollback-form">
<p>Deploy <code>$short</code> (deployment #$good_id, the last healthy one before #$id) to
stack <b>$stack</b> again? This queues a rollback deployment now.</p>
<label for="rollback-reason">Reason (optional)</label>
<input id="rollback-reason" maxlength="500" placeholder="e.g. checkout broken">
<p id="rollback-error" class="error" role="alert"></p>
<button type="button" id="rollback-cancel">Cancel</button>
<button type="submit" id="rollback-confirm" class="danger">Roll back</button>
</form></dialog>"""
)

FORCE = Template(
    """<p><button id="force-open" type="button" data-sha="$sha" data-ref="$ref">Deploy $short
again with a full up</button>
<span class="muted">skips no step, even when the stack is proved unchanged</span></p>
<dialog id="force-dialog"><form id="force-form">
<p>Deploy <code>$short</code> to stack <b>$stack</b> again with a full <code>up</code>? The
unchanged path is not taken: Pulumi runs the program and reads every resource. This queues
a deployment now.</p>
<label for="force-reason">Reason (optional)</label>
<input id="force-reason" maxlength="500" placeholder="e.g. a volume was restored by hand">
<p id="force-error" class="error" role="alert"></p>
<button type="button" id="force-cancel">Cancel</button>
<button type="submit" id="force-confirm" class="danger">Full up</button>
</form></dialog>"""
)
