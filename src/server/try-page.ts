import { contentSecurityPolicy } from "../report/content-policy.js";

/** An HTML page and the Content-Security-Policy header that goes with it. */
export interface HtmlPage {
  html: string;
  policy: string;
}

const TRY_STYLE = `
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; color: #222; }
label { display: block; margin: .6rem 0 .2rem; font-weight: 600; }
input, textarea { width: 100%; box-sizing: border-box; font: inherit; padding: .4rem; }
textarea { min-height: 12rem; }
button { margin-top: .8rem; font: inherit; padding: .4rem 1.2rem; }
table { border-collapse: collapse; width: 100%; margin-top: .5rem; table-layout: fixed; }
td, th { border: 1px solid #ccc; padding: .3rem .5rem; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
pre { background: #f5f5f5; padding: .8rem; overflow: auto; max-height: 24rem; white-space: pre-wrap; overflow-wrap: anywhere; }
.error { color: #a00; }
`;

/**
 * The page's script: posts the article to this server and shows the record, every value as text
 * (textContent), never as markup, since it echoes what was pasted. Plain browser JavaScript, no
 * template literals, so it can sit in this one.
 */
const TRY_SCRIPT = String.raw`
(() => {
  const form = document.getElementById("try");
  const status = document.getElementById("status");
  const say = (text, isError) => {
    status.textContent = text;
    status.className = isError ? "error" : "";
  };
  const row = (cells) => {
    const tr = document.createElement("tr");
    for (const text of cells) { const td = document.createElement("td"); td.textContent = text; tr.append(td); }
    return tr;
  };
  const describe = (output) => {
    if (output.skipped) return output.error;
    if (output.error) return "error: " + output.error;
    if (typeof output.summary === "string") return output.summary;
    if (output.sentiment_label) return output.sentiment_label + " (" + Number(output.sentiment_score).toFixed(3) + ")";
    return JSON.stringify(output);
  };
  // What happened, in one line: "Done." only when every value shown is a result.
  const outcome = (shown) => {
    const failed = shown.filter(([, output]) => output.error && !output.skipped);
    const skipped = shown.filter(([, output]) => output.skipped);
    const named = (entries) => entries.map(([name, output]) => name + ": " + output.error).join("; ");
    if (failed.length === 0 && skipped.length === 0) return ["Done.", false];
    if (failed.length === 0) return ["Done; " + named(skipped) + ".", false];
    if (failed.length + skipped.length === shown.length) return ["No result: " + named(failed.concat(skipped)) + ".", true];
    return ["Done, but " + failed.length + " of " + shown.length + " failed: " + named(failed) + ".", true];
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    say("Analysing…", false);
    const item = { id: "try-" + Date.now(), headline: form.headline.value || null, content: form.content.value };
    const headers = { "Content-Type": "application/json" };
    if (form.token) headers.Authorization = "Bearer " + form.token.value;
    try {
      const response = await fetch("v1/analyze", { method: "POST", headers, body: JSON.stringify(item) });
      const body = await response.json();
      if (!response.ok) throw new Error(body.error || response.statusText);
      const analyses = document.querySelector("#analyses tbody");
      // A tutorial key holds its task's final value and names its producer (expert), whose own
      // entry repeats it: one row per value, under the key a tutorial consumer reads.
      const producers = new Set(Object.values(body.analyses).map((output) => output && output.expert).filter(Boolean));
      const shown = Object.entries(body.analyses).filter(([name, output]) => !producers.has(name) || (output && output.expert));
      const label = ([name, output]) => (output.expert && output.expert !== name ? name + " (" + output.expert + ")" : name);
      analyses.replaceChildren(...shown.map((entry) => row([label(entry), describe(entry[1])])));
      const routing = document.querySelector("#routing tbody");
      routing.replaceChildren(...(body.routing ? body.routing.experts : []).map((c) => row([c.expert, c.task, c.weight.toFixed(2), c.reason])));
      for (const skipped of (body.routing && body.routing.skipped) || []) routing.append(row(["(none)", skipped.task, "", skipped.reason]));
      document.getElementById("record").textContent = JSON.stringify(body, null, 2);
      document.getElementById("result").hidden = false;
      if (body.error) say("The item was refused: " + body.error, true);
      else say(...outcome(shown.map((entry) => [label(entry), entry[1]])));
    } catch (error) {
      say("Failed: " + error.message, true);
    }
  });
  // With a token, the report is reached through a cookie (HttpOnly, SameSite=Strict) that the
  // server sets for the token: a plain link cannot carry an Authorization header.
  const reportLink = document.getElementById("report-link");
  reportLink.addEventListener("click", async (event) => {
    if (!form.token) return;
    event.preventDefault();
    if (!form.token.value) {
      say("Enter the token to open the report.", true);
      form.token.focus();
      return;
    }
    try {
      const response = await fetch("v1/session", { method: "POST", headers: { Authorization: "Bearer " + form.token.value } });
      if (response.ok) location.assign(reportLink.href);
      else say(response.status === 401 ? "The token was refused." : "Could not open the report: HTTP " + response.status, true);
    } catch (error) {
      say("Failed: " + error.message, true);
    }
  });
})();
`;

/**
 * The page at `/`: paste an article, see its analysis and how it was routed. Plain HTML and a few
 * lines of script that talk only to this server (`POST /v1/analyze`); its policy lets nothing else
 * run or load.
 */
export function tryPage(options: { tokenRequired: boolean }): HtmlPage {
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>news-moe: try an article</title>
<link rel="icon" href="data:,">
<style>${TRY_STYLE}</style>
</head>
<body>
<h1>news-moe</h1>
<p>Paste an article to see its summary, its sentiment and which experts the gate chose, and why.
<a href="report" id="report-link">Report of everything analysed so far</a>${
    options.tokenRequired ? " (opening it with the token below sets a cookie for it in this browser)" : ""
  }.</p>
<form id="try">
<label for="headline">Headline</label>
<input id="headline" name="headline">
<label for="content">Article</label>
<textarea id="content" name="content" required></textarea>
${options.tokenRequired ? '<label for="token">Token</label>\n<input id="token" name="token" type="password" autocomplete="off">' : ""}
<button type="submit">Analyse</button>
</form>
<section id="result" hidden>
<h2>Analysis</h2>
<table id="analyses"><thead><tr><th>Expert</th><th>Output</th></tr></thead><tbody></tbody></table>
<h2>Routing</h2>
<table id="routing"><thead><tr><th>Expert</th><th>Task</th><th>Weight</th><th>Reason</th></tr></thead><tbody></tbody></table>
<h2>Record</h2>
<pre id="record"></pre>
</section>
<p id="status" role="status"></p>
<script>${TRY_SCRIPT}</script>
</body>
</html>
`;
  return { html, policy: contentSecurityPolicy({ scripts: [TRY_SCRIPT], styles: [TRY_STYLE], connectSelf: true, delivery: "header" }) };
}
