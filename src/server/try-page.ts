/**
 * The page at `/`: paste an article, see its analysis and how it was routed. Plain HTML and a few
 * lines of script that talk only to this server (`POST /v1/analyze`).
 */
export function tryPage(options: { tokenRequired: boolean }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>news-moe: try an article</title>
<link rel="icon" href="data:,">
<style>
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; color: #222; }
label { display: block; margin: .6rem 0 .2rem; font-weight: 600; }
input, textarea { width: 100%; box-sizing: border-box; font: inherit; padding: .4rem; }
textarea { min-height: 12rem; }
button { margin-top: .8rem; font: inherit; padding: .4rem 1.2rem; }
table { border-collapse: collapse; width: 100%; margin-top: .5rem; }
td, th { border: 1px solid #ccc; padding: .3rem .5rem; text-align: left; vertical-align: top; }
pre { background: #f5f5f5; padding: .8rem; overflow: auto; max-height: 24rem; }
.error { color: #a00; }
</style>
</head>
<body>
<h1>news-moe</h1>
<p>Paste an article to see its summary, its sentiment and which experts the gate chose, and why.
<a href="report">Report of everything analysed so far</a>.</p>
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
<script>
(() => {
  const form = document.getElementById("try");
  const status = document.getElementById("status");
  const row = (cells) => {
    const tr = document.createElement("tr");
    for (const text of cells) { const td = document.createElement("td"); td.textContent = text; tr.append(td); }
    return tr;
  };
  const describe = (output) => {
    if (output.error) return "error: " + output.error;
    if (typeof output.summary === "string") return output.summary;
    if (output.sentiment_label) return output.sentiment_label + " (" + Number(output.sentiment_score).toFixed(3) + ")";
    return JSON.stringify(output);
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.textContent = "Analysing…";
    status.className = "";
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
      analyses.replaceChildren(...shown.map(([name, output]) =>
        row([output.expert && output.expert !== name ? name + " (" + output.expert + ")" : name, describe(output)])));
      const routing = document.querySelector("#routing tbody");
      routing.replaceChildren(...(body.routing ? body.routing.experts : []).map((c) => row([c.expert, c.task, c.weight.toFixed(2), c.reason])));
      for (const skipped of (body.routing && body.routing.skipped) || []) routing.append(row(["(none)", skipped.task, "", skipped.reason]));
      document.getElementById("record").textContent = JSON.stringify(body, null, 2);
      document.getElementById("result").hidden = false;
      status.textContent = body.error ? "The item was refused: " + body.error : "Done.";
    } catch (error) {
      status.textContent = "Failed: " + error.message;
      status.className = "error";
    }
  });
})();
</script>
</body>
</html>
`;
}
