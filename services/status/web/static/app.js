// The demo page: send a birth to intake, then follow the reading live over SSE.
// Plain JavaScript, no dependencies. Status is this page's own origin (relative URLs);
// intake's base URL comes from demo-config.json ("" = this origin).
"use strict";

(() => {
  const REQUEST_TIMEOUT_MS = 20000;
  const RECONNECT_LIMIT_MS = 20000; // give up when the event stream cannot reconnect this long
  const SLOW_NOTICE_MS = 45000; // say that it takes long after this much silence
  const IDLE_LIMIT_MS = 300000; // give up after this much silence
  const SVG_ATTEMPTS = 10;
  const STAGES = ["requested", "chart", "writing", "done"];

  const FAILURES = {
    place_not_found:
      "We could not find that place. Check the spelling, add the two-letter country code, " +
      "or enter the latitude and longitude instead.",
    date_out_of_range:
      "We can only calculate charts for dates between 1800 and 2199. Please check the date.",
    unknown_timezone:
      "We could not work out the time zone for that place. Try giving the place by latitude " +
      "and longitude, or check the place name.",
    invalid_input: "Some of the birth data could not be used. Please check the date, time and place.",
    retries_exhausted:
      "The service ran into a problem several times in a row and gave up. " +
      "Please try again in a few minutes.",
    content_filtered:
      "The writing service declined to write this reading. Please try again, " +
      "perhaps with another kind of reading.",
    llm_unauthorized:
      "The AI writing service did not accept this site's credentials, so the reading could " +
      "not be written. Your chart is still shown; please try again later.",
    llm_forbidden:
      "The AI writing service refused the request, so the reading could not be written. " +
      "Your chart is still shown; please try again later.",
    llm_model_not_found:
      "The AI model this site is set up to use is not available, so the reading could not " +
      "be written. Your chart is still shown; please try again later.",
  };
  const LLM_FAILURE =
    "The AI writing service could not write the reading. Your chart is still shown; " +
    "please try again later.";

  // Where each field of intake's 422 errors is shown: the input's id (its message goes to
  // the element "err-" + id). A field not listed goes to its longest listed prefix.
  const FIELDS = {
    "birth.date": "birth-date",
    "birth.time": "birth-time",
    "birth.place": "place",
    "birth.place.name": "place-name",
    "birth.place.country": "place-country",
    "birth.place.latitude": "place-latitude",
    "birth.place.longitude": "place-longitude",
    agent: "agent",
    language: "language",
  };

  const $ = (selector) => document.querySelector(selector);
  const form = $("#birth-form");
  const submit = $("#submit");
  const stages = $("#stages");
  const notice = $("#notice");
  const errorBox = $("#error");
  const summary = $("#summary");
  const bodygraph = $("#bodygraph");
  const reading = $("#reading");

  const config = loadConfig();
  let run = null; // the reading being followed

  // --- Small helpers ------------------------------------------------------------------

  function el(tag, props, children) {
    const node = document.createElement(tag);
    if (props) {
      for (const [key, value] of Object.entries(props)) {
        if (key === "text") node.textContent = value;
        else if (key === "className") node.className = value;
        else node.setAttribute(key, value);
      }
    }
    for (const child of children || []) node.append(child);
    return node;
  }

  function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  async function fetchWithTimeout(url, options, timeoutMs) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      return await fetch(url, { ...options, signal: controller.signal });
    } finally {
      clearTimeout(timer);
    }
  }

  async function readJson(response) {
    try {
      return await response.json();
    } catch {
      return null;
    }
  }

  function words(value) {
    if (!value) return "";
    const text = String(value).replace(/_/g, " ");
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  async function loadConfig() {
    try {
      const response = await fetchWithTimeout("demo-config.json", {}, REQUEST_TIMEOUT_MS);
      if (response.ok) {
        const body = await response.json();
        if (body && typeof body.intake_url === "string") return body;
      }
    } catch {
      // Fall back to this origin.
    }
    return { intake_url: "" };
  }

  // --- Messages -----------------------------------------------------------------------

  function setNotice(text) {
    notice.textContent = text || "";
  }

  function showError(message, details, focus = true) {
    const children = [el("p", { text: message })];
    if (details && details.length) {
      children.push(el("ul", null, details.map((d) => el("li", { text: d }))));
    }
    errorBox.replaceChildren(...children);
    errorBox.hidden = false;
    if (focus) errorBox.focus();
  }

  function clearErrors() {
    errorBox.hidden = true;
    errorBox.replaceChildren();
    for (const node of form.querySelectorAll(".field-error")) {
      node.textContent = "";
      node.hidden = true;
    }
    for (const node of form.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
  }

  function friendly(field, message) {
    const text = String(message || "").trim();
    if (field === "birth.place.country" && /pattern/i.test(text)) {
      return "Use a two-letter country code, such as CA or DE.";
    }
    if (field === "birth.date" && /valid date|date_from_datetime|input is too short/i.test(text)) {
      return "Enter the date as year, month and day.";
    }
    const coordinate = /^birth\.place\.(latitude|longitude)$/.exec(field);
    if (coordinate && /should be a valid number/i.test(text)) {
      return "Enter a number of degrees, such as 45.5.";
    }
    if (coordinate && /(less|greater) than or equal/i.test(text)) {
      return coordinate[1] === "latitude"
        ? "The latitude must be between -90 and 90 degrees."
        : "The longitude must be between -180 and 180 degrees.";
    }
    const plain = text.startsWith("Value error, ") ? text.slice("Value error, ".length) : text;
    return plain.charAt(0).toUpperCase() + plain.slice(1);
  }

  function fieldFor(path) {
    let key = path;
    while (key) {
      if (FIELDS[key]) return FIELDS[key];
      key = key.includes(".") ? key.slice(0, key.lastIndexOf(".")) : "";
    }
    return null;
  }

  function showFieldError(id, message) {
    const target = document.getElementById("err-" + id);
    if (!target) return false;
    target.textContent = target.textContent ? target.textContent + " " + message : message;
    target.hidden = false;
    const input = document.getElementById(id);
    if (input && input.tagName !== "FIELDSET") input.setAttribute("aria-invalid", "true");
    return true;
  }

  // Shows each error next to its field; returns those that have no visible field.
  function showFieldErrors(errors) {
    const unplaced = [];
    let first = null;
    for (const error of errors) {
      const field = String(error.field || "");
      const message = friendly(field, error.message);
      const id = fieldFor(field);
      const input = id ? document.getElementById(id) : null;
      const visible = !input || input.id === "place" || input.offsetParent !== null;
      if (id && visible && showFieldError(id, message)) {
        first = first || input;
      } else {
        unplaced.push(field && field !== "body" ? `${field}: ${message}` : message);
      }
    }
    if (first) first.focus();
    return unplaced;
  }

  // --- The form -----------------------------------------------------------------------

  function placeMode() {
    return form.querySelector('input[name="place-mode"]:checked').value;
  }

  function syncPlaceMode() {
    const byName = placeMode() === "name";
    $("#place-by-name").hidden = !byName;
    $("#place-by-coordinates").hidden = byName;
  }

  function numberOrText(value) {
    const text = value.trim().replace(",", ".");
    const number = Number(text);
    return text !== "" && Number.isFinite(number) ? number : text;
  }

  // The request body, or null after marking what is missing (the server checks the rest).
  function buildRequest() {
    const missing = [];
    const date = $("#birth-date").value.trim();
    const time = $("#birth-time").value.trim();
    if (!date) missing.push(["birth-date", "Enter the date of birth."]);
    if (!time) missing.push(["birth-time", "Enter the time of birth."]);
    const place = {};
    if (placeMode() === "name") {
      const name = $("#place-name").value.trim();
      const country = $("#place-country").value.trim();
      if (!name) missing.push(["place-name", "Enter the city or town of birth."]);
      place.name = name;
      if (country) place.country = country.toUpperCase();
    } else {
      const latitude = $("#place-latitude").value;
      const longitude = $("#place-longitude").value;
      if (!latitude.trim()) missing.push(["place-latitude", "Enter the latitude."]);
      if (!longitude.trim()) missing.push(["place-longitude", "Enter the longitude."]);
      place.latitude = numberOrText(latitude);
      place.longitude = numberOrText(longitude);
    }
    if (missing.length) {
      for (const [id, message] of missing) showFieldError(id, message);
      showError("Please fill in the highlighted fields.", null, false);
      document.getElementById(missing[0][0]).focus();
      return null;
    }
    return {
      birth: { date, time, place },
      agent: $("#agent").value,
      language: $("#language").value,
    };
  }

  function setBusy(busy) {
    submit.disabled = busy;
    submit.textContent = busy ? "Working\u2026" : "Get the reading";
    form.setAttribute("aria-busy", busy ? "true" : "false");
  }

  // --- Stages -------------------------------------------------------------------------

  function resetStages() {
    for (const li of stages.querySelectorAll("li")) li.className = "";
    stages.dataset.state = "idle";
  }

  function stageItem(name) {
    return stages.querySelector(`li[data-stage="${name}"]`);
  }

  // Everything before `name` is done; `name` itself becomes done or active.
  function reachStage(name, done) {
    const upto = STAGES.indexOf(name);
    STAGES.forEach((stage, i) => {
      const li = stageItem(stage);
      if (i < upto || (i === upto && done)) {
        if (li.className !== "done") li.className = "done";
      } else if (i === upto && li.className === "") {
        li.className = "active";
      }
    });
    stages.dataset.state = STAGES.every((s) => stageItem(s).classList.contains("done"))
      ? "done"
      : "running";
  }

  function failStage() {
    const active = stages.querySelector("li.active") ||
      STAGES.map(stageItem).find((li) => !li.classList.contains("done"));
    for (const li of stages.querySelectorAll("li.active")) li.classList.remove("active");
    if (active) active.className = "failed";
    stages.dataset.state = "failed";
  }

  // --- Chart summary and bodygraph ----------------------------------------------------

  function showSummary(chart) {
    const rows = [];
    const add = (label, value) => {
      if (value) rows.push(el("div", null, [el("dt", { text: label }), el("dd", { text: value })]));
    };
    add("Type", words(chart.type));
    add("Strategy", words(chart.strategy));
    add("Authority", words(chart.authority));
    add("Profile", chart.profile);
    add("Definition", words(chart.definition));
    const cross = chart.incarnation_cross;
    if (cross && Array.isArray(cross.gates) && cross.gates.length === 4) {
      const [ps, pe, ds, de] = cross.gates;
      add("Incarnation cross", `${words(cross.angle)} ${ps}/${pe} | ${ds}/${de}`);
    }
    const birth = chart.birth || {};
    const place = birth.place || {};
    const where = [place.name, place.country].filter(Boolean).join(", ") ||
      `${place.latitude}, ${place.longitude}`;
    add("Born", `${birth.date} ${birth.time}, ${where}`);
    if (birth.timezone || birth.utc_offset) {
      // U+2212 (minus) keeps "UTC-05:00" on one line.
      const offset = birth.utc_offset && `(UTC${String(birth.utc_offset).replace("-", "\u2212")})`;
      add("Time zone", [birth.timezone, offset].filter(Boolean).join(" "));
    }
    summary.replaceChildren(...rows);
    summary.hidden = rows.length === 0;
  }

  async function loadBodygraph(current) {
    const url = `v1/readings/${encodeURIComponent(current.id)}/bodygraph.svg`;
    bodygraph.dataset.state = "loading";
    bodygraph.replaceChildren(el("p", { className: "placeholder", text: "Drawing the bodygraph\u2026" }));
    for (let attempt = 0; attempt < SVG_ATTEMPTS; attempt += 1) {
      if (current !== run) return;
      let retry = true;
      try {
        const response = await fetchWithTimeout(url, { headers: { Accept: "image/svg+xml" } },
          REQUEST_TIMEOUT_MS);
        if (response.ok) {
          const svg = parseSvg(await response.text());
          if (current !== run) return;
          if (svg) {
            bodygraph.replaceChildren(svg);
            bodygraph.dataset.state = "ready";
            return;
          }
          retry = false;
        } else if (response.status === 409) {
          // The chart reached us before the database; "chart-unavailable" never changes.
          const problem = await readJson(response);
          retry = !(problem && String(problem.type || "").endsWith("/chart-unavailable"));
        } else {
          retry = response.status === 404 || response.status >= 500;
        }
      } catch {
        retry = true; // network trouble: try again
      }
      if (!retry) break;
      await sleep(Math.min(250 * 2 ** attempt, 2000));
    }
    if (current !== run) return;
    bodygraph.dataset.state = "failed";
    bodygraph.replaceChildren(el("p", {
      className: "placeholder",
      text: "The bodygraph picture could not be loaded. The chart details above are complete.",
    }));
  }

  function parseSvg(text) {
    const doc = new DOMParser().parseFromString(text, "image/svg+xml");
    const root = doc.documentElement;
    if (!root || root.localName !== "svg" || doc.getElementsByTagName("parsererror").length) {
      return null;
    }
    const svg = document.importNode(root, true);
    svg.removeAttribute("width");
    svg.removeAttribute("height");
    svg.setAttribute("focusable", "false");
    const desc = svg.querySelector("desc");
    svg.setAttribute("aria-label", "Bodygraph" + (desc ? ": " + desc.textContent : ""));
    return svg;
  }

  // --- The reading text ---------------------------------------------------------------

  // A small, safe subset of Markdown (built as DOM nodes, never as HTML): headings,
  // bullet lists (indented lines continue an item), paragraphs and **bold**.
  function renderText(target, text) {
    const nodes = [];
    let paragraph = null;
    let list = null;
    const flush = () => {
      if (paragraph) nodes.push(el("p", null, inline(paragraph.join(" "))));
      if (list) nodes.push(el("ul", null, list.map((item) => el("li", null, inline(item.join(" "))))));
      paragraph = null;
      list = null;
    };
    for (const raw of text.replace(/\r\n?/g, "\n").split("\n")) {
      const line = raw.trim();
      if (!line) {
        flush();
        continue;
      }
      const heading = /^(#{1,4})\s+(.*)$/.exec(line);
      const item = /^[-*]\s+(.*)$/.exec(line);
      if (heading) {
        flush();
        nodes.push(el(heading[1].length <= 1 ? "h3" : "h4", null, inline(heading[2])));
      } else if (item) {
        if (paragraph) flush();
        list = list || [];
        list.push([item[1]]);
      } else if (list && /^\s/.test(raw)) {
        list[list.length - 1].push(line);
      } else {
        if (list) flush();
        paragraph = paragraph || [];
        paragraph.push(line);
      }
    }
    flush();
    target.replaceChildren(...nodes);
  }

  function inline(text) {
    const parts = [];
    const pattern = /\*\*([^*]+)\*\*/g;
    let last = 0;
    let match;
    while ((match = pattern.exec(text)) !== null) {
      if (match.index > last) parts.push(text.slice(last, match.index));
      parts.push(el("strong", { text: match[1] }));
      last = pattern.lastIndex;
    }
    if (last < text.length) parts.push(text.slice(last));
    return parts;
  }

  function showReading(current, text, final) {
    if (!reading.dataset.firstTextFrom && text) {
      reading.dataset.firstTextFrom = final ? "final" : "delta";
    }
    renderText(reading, text);
    reading.dataset.state = final ? "complete" : "streaming";
    reading.setAttribute("aria-busy", final ? "false" : "true");
  }

  // --- Following a reading ------------------------------------------------------------

  function finish(current) {
    if (current.source) current.source.close();
    clearInterval(current.watchdog);
    current.finished = true;
    setBusy(false);
  }

  function fail(current, message) {
    if (current.finished) return;
    setNotice("");
    finish(current);
    failStage();
    if (current.id) {
      // Accepted, then failed: say so where the chart and the reading would have been.
      if (bodygraph.dataset.state === "empty") {
        bodygraph.dataset.state = "failed";
        bodygraph.replaceChildren(el("p", {
          className: "placeholder", text: "No bodygraph: the chart was not calculated.",
        }));
      }
      if (reading.dataset.state !== "complete") {
        if (!current.text) {
          reading.replaceChildren(el("p", {
            className: "placeholder", text: "No reading was written.",
          }));
        }
        reading.dataset.state = "failed";
        reading.setAttribute("aria-busy", "false");
      }
    }
    showError(message);
  }

  function failureMessage(data) {
    const code = String((data && data.code) || "");
    if (FAILURES[code]) return FAILURES[code];
    if (code.startsWith("llm_")) return LLM_FAILURE;
    const message = data && data.message ? String(data.message) : "";
    return message
      ? `The reading could not be completed: ${message}`
      : "The reading could not be completed. Please try again.";
  }

  function follow(current) {
    // The 202's events_url carries a stream token when the API is closed (EventSource
    // cannot send a key or a bearer token itself); its query goes on this origin's path.
    const token = current.eventsUrl ? new URL(current.eventsUrl, window.location.href).search : "";
    const url = `v1/readings/${encodeURIComponent(current.id)}/events${token}`;
    const source = new EventSource(url);
    current.source = source;
    current.lastEvent = Date.now();
    current.lostSince = 0;

    const on = (type, handler) => {
      source.addEventListener(type, (event) => {
        if (current !== run || current.finished) return;
        current.lastEvent = Date.now();
        current.lostSince = 0;
        setNotice("");
        let data = {};
        try {
          data = event.data ? JSON.parse(event.data) : {};
        } catch {
          data = {};
        }
        handler(data);
      });
    };

    on("hello", () => {});
    on("reading.requested", () => reachStage("requested", true));
    on("chart.calculated", (data) => {
      reachStage("chart", true);
      reachStage("writing", false);
      if (data.chart) showSummary(data.chart);
      loadBodygraph(current);
    });
    on("reading.started", () => {
      reachStage("writing", false);
      if (reading.dataset.state === "empty") {
        reading.dataset.state = "waiting";
        reading.replaceChildren(el("p", { className: "placeholder", text: "Writing\u2026" }));
      }
    });
    on("reading.delta", (data) => {
      reachStage("writing", false);
      const attempt = String(data.attempt || "");
      if (attempt !== current.attempt) {
        // The reader started over (a retry after a crash or an error): drop the old text.
        current.attempt = attempt;
        current.text = "";
      }
      // `offset` places the piece: the text so far is text[:offset] + piece.
      const offset = Number.isInteger(data.offset) ? data.offset : current.text.length;
      if (offset > current.text.length) return; // a gap: the server sends the rest again
      current.text = current.text.slice(0, offset) + String(data.text || "");
      reading.dataset.deltas = String(Number(reading.dataset.deltas || "0") + 1);
      showReading(current, current.text, false);
    });
    on("reading.generated", (data) => {
      reachStage("done", true);
      showReading(current, String(data.text || current.text), true);
      finish(current);
      setNotice("Your reading is ready.");
    });
    on("reading.failed", (data) => fail(current, failureMessage(data)));
    on("reading.cancelled", () => fail(current, "The reading was cancelled."));

    source.onopen = () => {
      if (current !== run || current.finished) return;
      current.lostSince = 0;
      setNotice("");
    };
    source.onerror = () => {
      if (current !== run || current.finished) return;
      if (source.readyState === EventSource.CLOSED) {
        fail(current, "The connection to the reading service was refused or closed. " +
          "Please try again in a moment.");
        return;
      }
      current.lostSince = current.lostSince || Date.now();
      setNotice("The connection was interrupted; reconnecting\u2026");
    };

    current.watchdog = setInterval(() => {
      if (current !== run || current.finished) return;
      const now = Date.now();
      if (current.lostSince && now - current.lostSince > RECONNECT_LIMIT_MS) {
        fail(current, "We lost the connection to the reading service and could not get it " +
          "back. Check your connection and try again.");
      } else if (now - current.lastEvent > IDLE_LIMIT_MS) {
        fail(current, "The reading is taking far longer than it should, so we stopped " +
          "waiting. Please try again later.");
      } else if (!current.lostSince && now - current.lastEvent > SLOW_NOTICE_MS) {
        setNotice("Still working \u2014 this is taking longer than usual.");
      }
    }, 1000);
  }

  // --- Submitting ---------------------------------------------------------------------

  function resetOutput() {
    resetStages();
    setNotice("");
    summary.hidden = true;
    summary.replaceChildren();
    bodygraph.dataset.state = "empty";
    bodygraph.replaceChildren(el("p", {
      className: "placeholder",
      text: "The bodygraph appears here once the chart is calculated.",
    }));
    reading.dataset.state = "empty";
    reading.dataset.deltas = "0";
    delete reading.dataset.firstTextFrom;
    reading.removeAttribute("aria-busy");
    reading.replaceChildren(el("p", {
      className: "placeholder",
      text: "The reading appears here as it is written.",
    }));
  }

  async function onSubmit(event) {
    event.preventDefault();
    if (run && !run.finished) finish(run);
    clearErrors();
    const body = buildRequest();
    if (!body) return;
    resetOutput();
    const current = { id: null, eventsUrl: "", text: "", attempt: "", finished: false, source: null, watchdog: 0 };
    run = current;
    setBusy(true);
    reachStage("requested", false);
    $("#progress").scrollIntoView({ block: "nearest" });
    setNotice("Sending your request\u2026");

    const base = String((await config).intake_url || "").replace(/\/+$/, "");
    const endpoint = `${base}/v1/readings`;
    let response;
    try {
      response = await fetchWithTimeout(endpoint, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(body),
      }, REQUEST_TIMEOUT_MS);
    } catch (error) {
      if (current !== run) return;
      const where = base || window.location.origin;
      fail(current, error && error.name === "AbortError"
        ? `The reading service at ${where} did not answer in time. Please try again.`
        : `We could not reach the reading service at ${where}. Check your connection ` +
          "and that the service is running, then try again.");
      return;
    }
    if (current !== run) return;
    const answer = await readJson(response);
    if (response.status === 202 && answer && answer.id) {
      current.id = String(answer.id);
      current.eventsUrl = typeof answer.events_url === "string" ? answer.events_url : "";
      reading.dataset.readingId = current.id;
      setNotice("");
      follow(current);
      return;
    }
    if (response.status === 422 && answer && Array.isArray(answer.errors)) {
      // Nothing was accepted: back to the form, each message next to its field.
      finish(current);
      resetStages();
      setNotice("");
      const unplaced = showFieldErrors(answer.errors);
      showError(unplaced.length ? "Please correct the following:" : "Please correct the " +
        "highlighted fields.", unplaced, unplaced.length > 0);
      return;
    }
    if (response.status === 503) {
      fail(current, "The service is busy or restarting and did not accept the request. " +
        "Nothing was saved; please try again in a moment.");
      return;
    }
    const detail = answer && (answer.detail || answer.title);
    fail(current, `The request was not accepted (HTTP ${response.status})` +
      (detail ? `: ${detail}` : ".") + " Please try again.");
  }

  // --- Wiring -------------------------------------------------------------------------

  for (const radio of form.querySelectorAll('input[name="place-mode"]')) {
    radio.addEventListener("change", syncPlaceMode);
  }
  syncPlaceMode();
  form.addEventListener("submit", onSubmit);
})();
