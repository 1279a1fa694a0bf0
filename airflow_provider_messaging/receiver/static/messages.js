// Messages view of airflow-provider-messaging: reads the JSON endpoints next to this page.
// Every value from the store is inserted as text (textContent), never as HTML: callback bodies and
// inbound texts come from outside and must not run as script.
"use strict";

(function () {
  const $ = (selector) => document.querySelector(selector);

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  function row(cells) {
    const tr = document.createElement("tr");
    for (const cell of cells) {
      const td = document.createElement("td");
      if (cell instanceof Node) td.appendChild(cell);
      else td.textContent = cell === null || cell === undefined ? "" : String(cell);
      tr.appendChild(td);
    }
    return tr;
  }

  function stateBadge(state) {
    return el("span", state || "", "state state-" + (state || "none"));
  }

  // A send the vendor refused, or whose outcome is unknown, has no delivery state: show what happened
  // to the send instead, with the vendor's error as the tooltip.
  const SEND_PROBLEMS = {
    REJECTED: { badge: "REJECTED", id: "(rejected)", state: "not sent: the vendor refused it" },
    UNKNOWN: { badge: "SEND UNKNOWN", id: "(no answer)", state: "unknown: the vendor's answer never came back" },
    SKIPPED: { badge: "SKIPPED", id: "(skipped)", state: "not sent: the sending policy skipped it" },
  };

  // A policy skip's error is "code: reason" (frequency_cap, window_unreachable): the code goes on the badge.
  function skipCode(error) {
    const match = /^([a-z_]+): /.exec(error || "");
    return match ? match[1].replace(/_/g, " ") : "";
  }

  function messageBadge(m) {
    if (!SEND_PROBLEMS[m.send_status]) return stateBadge(m.state);
    let text = SEND_PROBLEMS[m.send_status].badge;
    if (m.send_status === "SKIPPED" && skipCode(m.error)) text += " \u00b7 " + skipCode(m.error);
    const badge = el("span", text, "state state-send-" + m.send_status);
    if (m.error) badge.title = m.error;
    return badge;
  }

  function when(iso) {
    if (!iso) return "";
    return iso.replace("T", " ").replace(/\.\d+/, "").replace("+00:00", "");
  }

  function showError(message) {
    const box = $("#error");
    box.textContent = message;
    box.hidden = !message;
  }

  async function api(path, options) {
    const response = await fetch("api/" + path, Object.assign({ credentials: "same-origin" }, options || {}));
    let body = null;
    try {
      body = await response.json();
    } catch (e) {
      body = null;
    }
    if (response.status === 401 || response.status === 403) {
      const detail = body && body.detail ? " (" + body.detail + ")" : "";
      throw new Error("Not authorized" + detail + ": log in to Airflow and open this view from its menu.");
    }
    if (!response.ok) {
      throw new Error((body && (body.detail || body.reason)) || "HTTP " + response.status);
    }
    return body;
  }

  function query(form) {
    const params = new URLSearchParams();
    for (const [key, value] of new FormData(form).entries()) {
      if (String(value).trim()) params.set(key, String(value).trim());
    }
    return params.toString();
  }

  // ---------------------------------------------------------------- messages
  async function loadMessages() {
    const data = await api("messages?" + query($("#filters")));
    const select = $("#filters select[name=state]");
    if (select.options.length === 1) {
      for (const state of data.states) select.appendChild(el("option", state));
    }
    const body = $("#messages tbody");
    body.replaceChildren();
    for (const m of data.messages) {
      const tr = row([
        when(m.created_at),
        m.vendor,
        el("code", m.message_id || (SEND_PROBLEMS[m.send_status] || { id: "(sending)" }).id),
        m.recipient,
        (m.channels || []).join(" \u2192 "),
        messageBadge(m),
        m.delivered_channel || "",
        [m.dag_id, m.task_id].filter(Boolean).join(" / "),
      ]);
      tr.dataset.messageId = m.message_id || m.idempotency_key;
      tr.dataset.vendor = m.vendor;
      tr.addEventListener("click", () => openMessage(tr.dataset.messageId, tr.dataset.vendor, tr));
      body.appendChild(tr);
    }
    $("#messages-empty").hidden = data.messages.length > 0;
  }

  async function openMessage(messageId, vendor, tr) {
    for (const other of document.querySelectorAll("#messages tbody tr.selected")) other.classList.remove("selected");
    if (tr) tr.classList.add("selected");
    const data = await api("messages/" + encodeURIComponent(messageId) + "?vendor=" + encodeURIComponent(vendor));
    const m = data.message;
    $("#detail-id").textContent = m.message_id || m.idempotency_key;
    const summary = $("#detail-summary");
    summary.replaceChildren();
    const facts = [
      ["Vendor", m.vendor],
      ["Recipient", m.recipient],
      [
        "State",
        SEND_PROBLEMS[m.send_status]
          ? SEND_PROBLEMS[m.send_status].state
          : m.state + (m.complete ? " (complete)" : " (in progress)"),
      ],
      ["Delivered via", m.delivered_channel || "\u2014"],
      ["Fallback used", m.fallback_used ? "yes" : "no"],
      ["Send", m.send_status + (m.error ? ": " + m.error : "")],
      ["DAG / task / run", [m.dag_id, m.task_id, m.run_id].filter(Boolean).join(" / ")],
      ["Idempotency key", m.idempotency_key],
      ["Created", when(m.created_at)],
      ["Completed", when(m.completed_at)],
    ];
    for (const [name, value] of facts) {
      summary.appendChild(el("dt", name));
      summary.appendChild(el("dd", value));
    }
    const attempts = new Map((m.attempts || []).map((a) => [a.channel, a]));
    const cascade = $("#detail-cascade tbody");
    cascade.replaceChildren();
    const channels = m.channels.concat((m.attempts || []).map((a) => a.channel).filter((c) => !m.channels.includes(c)));
    channels.forEach((channel, index) => {
      const a = attempts.get(channel) || {};
      cascade.appendChild(
        row([index + 1, channel, a.state ? stateBadge(a.state) : "not tried", a.code, a.description, when(a.updated_on)])
      );
    });
    const callbacks = $("#detail-callbacks tbody");
    callbacks.replaceChildren();
    for (const c of data.callbacks) {
      let pretty = c.body;
      try {
        pretty = JSON.stringify(JSON.parse(c.body), null, 2);
      } catch (e) {
        /* keep the raw body */
      }
      callbacks.appendChild(row([when(c.received_at), c.kind, el("pre", pretty)]));
    }
    if (!data.callbacks.length) callbacks.appendChild(row(["", "", "no callback yet"]));
    const inbound = $("#detail-inbound tbody");
    inbound.replaceChildren();
    for (const i of data.inbound) inbound.appendChild(row([when(i.received_at), i.channel, i.text, i.action]));
    if (!data.inbound.length) inbound.appendChild(row(["", "", "no reply", ""]));
    $("#detail").hidden = false;
  }

  // ---------------------------------------------------------------- inbound
  async function loadInbound() {
    const data = await api("inbound?" + query($("#inbound-filters")));
    const body = $("#inbound tbody");
    body.replaceChildren();
    for (const i of data.inbound) {
      body.appendChild(
        row([when(i.received_at), i.vendor, i.channel, i.sender, i.text, i.action, i.postback, i.reference_id])
      );
    }
  }

  // ---------------------------------------------------------------- opt-outs
  async function loadOptOuts() {
    const data = await api("optouts");
    const body = $("#optouts tbody");
    body.replaceChildren();
    for (const o of data.optouts) {
      const button = el("button", "Remove");
      button.type = "button";
      button.setAttribute("aria-label", "Remove " + o.vendor + " " + o.recipient);
      // two clicks instead of window.confirm(): Airflow's UI frames this page in a sandboxed iframe,
      // where modal dialogs are blocked
      button.addEventListener("click", () => {
        if (button.dataset.armed !== "yes") {
          button.dataset.armed = "yes";
          button.textContent = "Confirm removal";
          button.setAttribute("aria-label", "Confirm removal of " + o.vendor + " " + o.recipient);
          return;
        }
        run(removeOptOut(o.vendor, o.recipient));
      });
      body.appendChild(row([o.vendor, o.recipient, o.source, o.keyword, when(o.created_at), button]));
    }
    if (!data.optouts.length) body.appendChild(row(["", "The opt-out list is empty.", "", "", "", ""]));
  }

  async function removeOptOut(vendor, recipient) {
    await api("optouts/" + encodeURIComponent(vendor) + "/" + encodeURIComponent(recipient), {
      method: "DELETE",
      headers: { "X-Requested-With": "XMLHttpRequest" },
    });
    $("#optouts-status").textContent = "Removed " + recipient + " (" + vendor + ") from the opt-out list.";
    await loadOptOuts();
  }

  // ---------------------------------------------------------------- report
  // The report lives next to this page (/messaging/report) behind the same Airflow login: the
  // figures come as JSON, the chart as an SVG image (an <img> runs no script inside the SVG).
  function percent(rate) {
    return rate === null || rate === undefined ? "-" : (100 * rate).toFixed(1) + " %";
  }

  async function loadReport() {
    const since = new FormData($("#report-filters")).get("since") || "7d";
    const span = "since=" + encodeURIComponent(since);
    const response = await fetch("../report?" + span, { credentials: "same-origin" });
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      throw new Error((body && (body.reason || body.detail)) || "HTTP " + response.status);
    }
    const summary = $("#report-summary");
    summary.replaceChildren();
    const figures = [
      ["Sent", body.sent],
      ["Delivered", body.delivered + " (" + percent(body.delivery_rate) + ")"],
      ["Failed", body.failed],
      ["Pending", body.pending],
      ["Delivered on a fallback channel", body.fallback + " (" + percent(body.fallback_rate) + ")"],
      ["Replied", body.replied + " (" + percent(body.reply_rate) + ")"],
      ["Opted out", body.opted_out + " (" + percent(body.opt_out_rate) + ")"],
    ];
    for (const [name, value] of figures) {
      summary.appendChild(el("dt", name));
      summary.appendChild(el("dd", value));
    }
    const chart = $("#report-chart");
    chart.onload = () => {
      chart.hidden = false;
      $("#report-chart-missing").hidden = true;
    };
    chart.onerror = () => {
      chart.hidden = true;
      $("#report-chart-missing").hidden = false;
    };
    chart.src = "../report?chart=svg&" + span;
  }

  // ---------------------------------------------------------------- wiring
  const loaders = { messages: loadMessages, inbound: loadInbound, optouts: loadOptOuts, report: loadReport };

  function run(promise) {
    promise.then(() => showError(""), (error) => showError(error.message));
  }

  function selectTab(name) {
    for (const button of document.querySelectorAll(".tabs button")) {
      const on = button.dataset.tab === name;
      button.setAttribute("aria-selected", on ? "true" : "false");
      $("#tab-" + button.dataset.tab).hidden = !on;
    }
    run(loaders[name]());
  }

  document.addEventListener("DOMContentLoaded", () => {
    for (const button of document.querySelectorAll(".tabs button")) {
      button.addEventListener("click", () => selectTab(button.dataset.tab));
    }
    $("#filters").addEventListener("submit", (event) => {
      event.preventDefault();
      run(loadMessages());
    });
    $("#filters").addEventListener("reset", () => setTimeout(() => run(loadMessages()), 0));
    $("#report-filters").addEventListener("submit", (event) => {
      event.preventDefault();
      run(loadReport());
    });
    $("#inbound-filters").addEventListener("submit", (event) => {
      event.preventDefault();
      run(loadInbound());
    });
    $("#detail-close").addEventListener("click", () => {
      $("#detail").hidden = true;
    });
    api("me").then(
      (me) => {
        $("#who").textContent = "signed in as " + me.user;
      },
      (error) => showError(error.message)
    );
    run(loadMessages());
  });
})();
