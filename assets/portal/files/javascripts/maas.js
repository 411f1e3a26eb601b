/*
 * Portal behaviour: mobile navigation, masked credentials, copy buttons, accessible tabs and the usage chart of a
 * one-endpoint application. No dependencies.
 */
(function () {
  "use strict";

  function onReady(fn) {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fn);
    else fn();
  }

  function setupNavigation() {
    var toggle = document.querySelector(".nav-toggle");
    var nav = document.getElementById("site-nav");
    if (!toggle || !nav) return;
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", String(open));
      nav.classList.toggle("is-open", open);
    });
  }

  function setupSecrets() {
    document.querySelectorAll("[data-secret-toggle]").forEach(function (button) {
      var input = document.getElementById(button.getAttribute("aria-controls"));
      if (!input) return;
      button.addEventListener("click", function () {
        var reveal = input.type === "password";
        input.type = reveal ? "text" : "password";
        button.textContent = reveal ? "Hide" : "Reveal";
        button.setAttribute("aria-pressed", String(reveal));
      });
    });
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    // Fallback for plain-http previews: a temporary textarea and execCommand.
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      var ok = document.execCommand("copy");
      document.body.removeChild(area);
      if (ok) resolve();
      else reject(new Error("copy refused"));
    });
  }

  function setupCopyButtons() {
    document.querySelectorAll("[data-copy-from]").forEach(function (button) {
      var label = button.textContent;
      button.addEventListener("click", function () {
        var source = document.getElementById(button.getAttribute("data-copy-from"));
        if (!source) return;
        var text = "value" in source ? source.value : source.textContent;
        copyText(text).then(
          function () {
            button.textContent = "Copied";
            button.setAttribute("data-copied", "true");
            setTimeout(function () {
              button.textContent = label;
              button.removeAttribute("data-copied");
            }, 2000);
          },
          function () {
            button.textContent = "Press Ctrl+C";
            if ("select" in source) source.select();
          },
        );
      });
    });
  }

  function setupTabs() {
    document.querySelectorAll("[data-tabs]").forEach(function (container) {
      var tabs = Array.prototype.slice.call(container.querySelectorAll('[role="tab"]'));
      function select(tab, focus) {
        tabs.forEach(function (other) {
          var selected = other === tab;
          other.setAttribute("aria-selected", String(selected));
          other.tabIndex = selected ? 0 : -1;
          document.getElementById(other.getAttribute("aria-controls")).hidden = !selected;
        });
        if (focus) tab.focus();
      }
      tabs.forEach(function (tab, index) {
        tab.addEventListener("click", function () {
          select(tab, false);
        });
        tab.addEventListener("keydown", function (event) {
          var next = null;
          if (event.key === "ArrowRight") next = tabs[(index + 1) % tabs.length];
          if (event.key === "ArrowLeft") next = tabs[(index - 1 + tabs.length) % tabs.length];
          if (event.key === "Home") next = tabs[0];
          if (event.key === "End") next = tabs[tabs.length - 1];
          if (next) {
            event.preventDefault();
            select(next, true);
          }
        });
      });
      select(tabs[0], false);
    });
  }

  /*
   * Usage of a one-endpoint application: GET <gateway>/v1/usage with the application's key (read from its masked field,
   * sent only in this request's Authorization header, never stored), drawn as one small bar chart per model plus the
   * product-wide limits. Document and errors: assets/apicast-policies/llm-metrics/README.md ("GET /v1/usage").
   * Everything from the gateway is written with textContent, never as HTML.
   */
  var USAGE_TIMEOUT_MS = 15000;
  var NUMBER = new Intl.NumberFormat("en-US");
  var PERIOD_TEXT = {
    minute: "this minute",
    hour: "this hour",
    day: "today",
    week: "this week",
    month: "this month",
    year: "this year",
    eternity: "in total",
  };
  var PERIOD_RANK = { minute: 1, hour: 2, day: 3, week: 4, month: 5, year: 6, eternity: 7 };
  var KIND_TEXT = {
    total_tokens: "Tokens",
    prompt_tokens: "Prompt tokens",
    completion_tokens: "Completion tokens",
    cached_prompt_tokens: "Cached prompt tokens",
    reasoning_tokens: "Reasoning tokens",
    requests: "Requests",
  };
  // Tokens first: they are what a plan mostly sells.
  var KIND_RANK = {
    total_tokens: 1,
    prompt_tokens: 2,
    completion_tokens: 3,
    cached_prompt_tokens: 4,
    reasoning_tokens: 5,
    requests: 6,
    other: 7,
  };

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function count(value) {
    return NUMBER.format(value);
  }

  /** "45 s", "12 min", "5 h 58 min", "3 days 4 h". */
  function duration(seconds) {
    var s = Math.max(0, Math.round(seconds));
    if (s < 60) return s + " s";
    var minutes = Math.floor(s / 60);
    if (minutes < 60) return minutes + " min";
    var hours = Math.floor(minutes / 60);
    if (hours < 48) return hours + " h " + (minutes % 60) + " min";
    return Math.floor(hours / 24) + " days " + (hours % 24) + " h";
  }

  function isCount(value) {
    return typeof value === "number" && isFinite(value) && value >= 0;
  }

  /** The key as the page may show it in a message: its last four characters. */
  function maskKey(text, key) {
    if (!key || typeof text !== "string") return text;
    return text.split(key).join("…" + key.slice(-4));
  }

  function rowLabel(row) {
    var what = KIND_TEXT[row.kind] || String(row.metric || "Usage").replace(/_/g, " ");
    return what + " " + (PERIOD_TEXT[row.period] || String(row.period));
  }

  function usageRow(row, id) {
    var used = row.used;
    var limit = row.limit;
    var unit = row.unit === "requests" ? "requests" : row.unit === "tokens" ? "tokens" : "units";
    var share = limit > 0 ? (used / limit) * 100 : used > 0 ? 100 : 0;
    var percent = share > 0 && share < 1 ? "<1%" : Math.round(share) + "%";
    var item = element("li", "usage-row" + (share >= 100 ? " is-full" : share >= 80 ? " is-high" : ""));
    var head = element("div", "usage-row-head");
    var label = element("span", "usage-label", rowLabel(row));
    label.id = id;
    head.appendChild(label);
    head.appendChild(element("span", "usage-figures", count(used) + " / " + count(limit)));
    item.appendChild(head);

    var bar = element("div", "usage-bar");
    bar.setAttribute("role", "meter");
    bar.setAttribute("aria-labelledby", id);
    bar.setAttribute("aria-valuemin", "0");
    bar.setAttribute("aria-valuemax", String(limit));
    bar.setAttribute("aria-valuenow", String(Math.min(used, limit)));
    bar.setAttribute(
      "aria-valuetext",
      limit === 0
        ? "not included in your plan"
        : count(used) + " of " + count(limit) + " " + unit + " (" + percent + ")",
    );
    var fill = element("span", "usage-fill");
    fill.style.width = Math.min(100, share) + "%";
    bar.appendChild(fill);
    item.appendChild(bar);

    var notes = [];
    if (limit === 0) notes.push("Not included in your plan");
    else notes.push(count(Math.max(0, limit - used)) + " left (" + percent + " used)");
    if (isCount(row.reset_seconds)) notes.push("resets in " + duration(row.reset_seconds));
    item.appendChild(element("p", "usage-note", notes.join(" · ")));
    return item;
  }

  function usageChart(title, note, rows, prefix) {
    var figure = element("figure", "usage-chart");
    var caption = element("figcaption", "usage-chart-title");
    caption.appendChild(title);
    figure.appendChild(caption);
    if (note) figure.appendChild(element("p", "usage-note", note));
    if (rows.length > 0) {
      var list = element("ul", "usage-list");
      rows.forEach(function (row, i) {
        list.appendChild(usageRow(row, prefix + "-" + i));
      });
      figure.appendChild(list);
    }
    return figure;
  }

  function validRow(row) {
    return row && typeof row === "object" && isCount(row.used) && isCount(row.limit) && typeof row.period === "string";
  }

  function byKindAndPeriod(a, b) {
    return (
      (KIND_RANK[a.kind] || 7) - (KIND_RANK[b.kind] || 7) ||
      String(a.metric).localeCompare(String(b.metric)) ||
      (PERIOD_RANK[a.period] || 8) - (PERIOD_RANK[b.period] || 8)
    );
  }

  /** One chart for the product-wide limits, then one per model of the plan (in the document's order). */
  function drawUsage(charts, doc) {
    var rows = doc.data.filter(validRow);
    var models = Array.isArray(doc.models)
      ? doc.models.filter(function (m) {
          return typeof m === "string";
        })
      : [];
    rows.forEach(function (row) {
      if (typeof row.model === "string" && models.indexOf(row.model) < 0) models.push(row.model);
    });
    charts.textContent = "";
    var overall = rows
      .filter(function (r) {
        return typeof r.model !== "string";
      })
      .sort(byKindAndPeriod);
    if (overall.length > 0) {
      var allTitle = element("span", "", "All models together");
      charts.appendChild(usageChart(allTitle, "Every model's use counts here.", overall, "usage-all"));
    }
    models.forEach(function (model, i) {
      var own = rows
        .filter(function (r) {
          return r.model === model;
        })
        .sort(byKindAndPeriod);
      var title = element("code", "mono", model);
      var note = own.length === 0 ? "No limit of its own; counts toward the limits of all models together." : "";
      charts.appendChild(usageChart(title, note, own, "usage-model-" + i));
    });
    return { rows: rows.length, models: models };
  }

  /** The gateway's OpenAI-style error message, else what is known about the answer. */
  function errorMessage(status, text) {
    try {
      var body = JSON.parse(text);
      if (body && body.error && typeof body.error.message === "string") {
        return body.error.message + (typeof body.error.code === "string" ? " (" + body.error.code + ")" : "");
      }
    } catch {
      // Not JSON: fall through.
    }
    var plain = String(text || "").trim();
    return "HTTP " + status + (plain && plain.length <= 200 ? ": " + plain : "");
  }

  function setupUsage() {
    document.querySelectorAll("[data-usage]").forEach(function (section) {
      var url = section.getAttribute("data-usage-url");
      var keyField = document.getElementById(section.getAttribute("data-usage-key-from"));
      var status = section.querySelector("[data-usage-status]");
      var charts = section.querySelector("[data-usage-charts]");
      var refresh = section.querySelector("[data-usage-refresh]");
      if (!url || !status || !charts) return;

      function show(state, message) {
        section.setAttribute("data-usage-state", state);
        section.setAttribute("aria-busy", String(state === "loading"));
        status.className = "usage-status" + (state === "error" ? " is-error" : "");
        status.textContent = message;
        if (refresh) refresh.disabled = state === "loading";
      }

      function answered(response, text, key) {
        charts.textContent = "";
        if (!response.ok) {
          show("error", "The gateway refused: " + maskKey(errorMessage(response.status, text), key));
          return;
        }
        var doc = null;
        try {
          doc = JSON.parse(text);
        } catch {
          // Not JSON: reported below.
        }
        if (!doc || doc.object !== "usage" || !Array.isArray(doc.data)) {
          show("error", "The gateway's answer is not a usage document.");
          return;
        }
        var drawn = drawUsage(charts, doc);
        if (drawn.rows === 0) {
          show(
            "empty",
            "Your plan sets no limits on this key: there is nothing to measure against." +
              (drawn.models.length ? " Models you can use: " + drawn.models.join(", ") + "." : ""),
          );
          return;
        }
        var time = isCount(doc.generated_at)
          ? " as of " + new Date(doc.generated_at * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
          : "";
        show("ready", "Usage" + time + ", against your plan's limits.");
      }

      function unreachable(error) {
        charts.textContent = "";
        show(
          "error",
          error && error.name === "AbortError"
            ? "The gateway did not answer within " + USAGE_TIMEOUT_MS / 1000 + " s. Try again later."
            : "Could not reach the gateway at " + new URL(url, location.href).origin + ". Try again later.",
        );
      }

      function load() {
        var key = keyField && "value" in keyField ? keyField.value : "";
        if (!key) {
          show("error", "This application has no API key to ask the gateway with.");
          return;
        }
        show("loading", "Loading usage…");
        var controller = new AbortController();
        var timer = setTimeout(function () {
          controller.abort();
        }, USAGE_TIMEOUT_MS);
        function done() {
          clearTimeout(timer);
        }
        // A failure to connect or to read the answer is "unreachable"; an error while drawing is a bug and stays one.
        fetch(url, {
          method: "GET",
          headers: { Accept: "application/json", Authorization: "Bearer " + key },
          // The key is the credential: no cookies, no referrer, no redirect that could carry it elsewhere.
          credentials: "omit",
          cache: "no-store",
          mode: "cors",
          redirect: "error",
          referrerPolicy: "no-referrer",
          signal: controller.signal,
        }).then(
          function (response) {
            return response.text().then(
              function (text) {
                done();
                answered(response, text, key);
              },
              function (error) {
                done();
                unreachable(error);
              },
            );
          },
          function (error) {
            done();
            unreachable(error);
          },
        );
      }

      if (refresh) {
        refresh.hidden = false;
        refresh.addEventListener("click", load);
      }
      load();
    });
  }

  onReady(function () {
    setupNavigation();
    setupSecrets();
    setupCopyButtons();
    setupTabs();
    setupUsage();
  });
})();
