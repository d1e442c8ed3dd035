// The seskit inbox: plain JavaScript over the emulator's control API (docs/testing.md).
// Everything a message contains is put into the page as text (textContent), never as markup;
// its HTML body goes only into an <iframe sandbox=""> (no scripts, opaque origin).
"use strict";

const POLL_MS = 1000; // live updates: the list is re-read this often
const LIST_LIMIT = 500; // newest messages the list shows

const state = {
  messages: [], // newest first, as the API returns them
  signature: "", // what the list showed last: re-render only when it changes
  selected: null, // the open message's JSON
  tab: "html",
  timer: null,
  requested: 0, // sequence number of the latest list request
};

const $ = (selector, root = document) => root.querySelector(selector);

function el(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "text") node.textContent = value;
    else if (key === "class") node.className = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function showError(message) {
  const box = $("#error");
  box.textContent = message;
  box.hidden = !message;
}

async function api(path, options = {}) {
  const response = await fetch(path, { cache: "no-store", ...options });
  if (!response.ok) {
    let detail = `${response.status} ${response.statusText}`;
    try {
      const body = await response.json();
      if (body && body.error) detail = `${body.error.code}: ${body.error.message}`;
    } catch (_) {
      /* not JSON: keep the status line */
    }
    throw new Error(`${options.method || "GET"} ${path}: ${detail}`);
  }
  return response;
}

function searchQuery() {
  const field = $("#search-field").value;
  const text = $("#search").value.trim();
  return { field, text };
}

function listUrl() {
  // The list needs no bodies: the summary view leaves them out (an open message is read whole).
  const params = new URLSearchParams({ limit: String(LIST_LIMIT), view: "summary" });
  const { field, text } = searchQuery();
  if (text && field !== "all") params.set(field, text);
  return `/_emulator/messages?${params}`;
}

function addresses(message) {
  const d = message.destination || { to: [], cc: [], bcc: [] };
  return [...d.to, ...d.cc, ...d.bcc, ...message.recipients];
}

function matchesAnywhere(message, text) {
  const needle = text.toLowerCase();
  const haystack = [message.subject || "", message.source, message.envelope_from, ...addresses(message)];
  return haystack.some((value) => value.toLowerCase().includes(needle));
}

async function refresh() {
  const ticket = ++state.requested;
  const { field, text } = searchQuery();
  try {
    const body = await (await api(listUrl())).json();
    // A poll that started before the search changed must not overwrite a newer answer.
    if (ticket !== state.requested) return;
    let messages = body.messages;
    if (text && field === "all") messages = messages.filter((m) => matchesAnywhere(m, text));
    const signature = JSON.stringify([text, field, messages.map((m) => [m.id, m.events.length])]);
    state.messages = messages;
    $("#count").textContent = `${messages.length} of ${body.total} message${body.total === 1 ? "" : "s"}`;
    if (signature !== state.signature) {
      state.signature = signature;
      renderList();
      refreshSelected();
    }
    showError("");
  } catch (error) {
    showError(`Cannot read messages (${error.message}). Retrying…`);
  }
}

function schedule() {
  clearTimeout(state.timer);
  state.timer = setTimeout(async () => {
    await refresh();
    schedule();
  }, POLL_MS);
}

function formatTime(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

function renderList() {
  const list = $("#messages");
  list.replaceChildren();
  $("#empty").hidden = state.messages.length > 0;
  for (const message of state.messages) {
    const to = message.destination.to.length ? message.destination.to : message.recipients;
    const badges = el("span", { class: "badges" });
    const files = message.attachments.length;
    // Plain text, not an emoji: a machine without an emoji font would show a blank box.
    if (files) badges.append(el("span", { class: "badge", text: `${files} attachment${files === 1 ? "" : "s"}` }));
    if (message.status !== "accepted") badges.append(el("span", { class: "badge warn", text: message.status }));
    const relay = message.events.filter((e) => e.type === "relay").pop();
    if (relay) badges.append(el("span", { class: `badge ${relay.status === "sent" ? "ok" : "warn"}`, text: `relay ${relay.status}` }));
    const item = el("li", { class: "message", "data-id": message.id, tabindex: "0" }, [
      el("div", { class: "row" }, [
        el("span", { class: "from", text: message.source }),
        el("time", { class: "time", datetime: message.timestamp_iso, text: formatTime(message.timestamp_iso) }),
      ]),
      el("div", { class: "subject", text: message.subject || "(no subject)" }),
      el("div", { class: "row" }, [el("span", { class: "to", text: `To: ${to.join(", ")}` }), badges]),
    ]);
    if (state.selected && state.selected.id === message.id) item.classList.add("selected");
    item.addEventListener("click", () => openMessage(message.id));
    item.addEventListener("keydown", (event) => {
      if (event.key === "Enter") openMessage(message.id);
    });
    list.append(item);
  }
}

async function refreshSelected() {
  // A message's events grow after it is sent (event publishing, the relay): keep them current.
  if (!state.selected) return;
  const fresh = state.messages.find((m) => m.id === state.selected.id);
  if (fresh && fresh.events.length !== state.selected.events.length) {
    // The list's records are summaries: keep the open message's bodies, take the new events.
    state.selected = { ...state.selected, events: fresh.events };
    renderEvents(state.selected);
  }
}

async function openMessage(id) {
  try {
    const message = await (await api(`/_emulator/messages/${encodeURIComponent(id)}`)).json();
    state.selected = message;
    // The address bar names the open message, so a link to it reopens it.
    history.replaceState(null, "", `#${encodeURIComponent(id)}`);
    for (const item of document.querySelectorAll("#messages .message")) {
      item.classList.toggle("selected", item.dataset.id === id);
    }
    renderDetail(message);
    showError("");
  } catch (error) {
    showError(`Cannot open message ${id} (${error.message}).`);
  }
}

function metaRow(tbody, name, value) {
  if (value === null || value === undefined || value === "" || (Array.isArray(value) && !value.length)) return;
  const text = Array.isArray(value) ? value.join(", ") : String(value);
  tbody.append(el("tr", {}, [el("th", { text: name }), el("td", { text })]));
}

function safeDecode(text) {
  try {
    return decodeURIComponent(text);
  } catch (_) {
    return text; // not percent-encoded after all
  }
}

function attachmentUrl(message, index) {
  return `/_emulator/messages/${encodeURIComponent(message.id)}/attachments/${index}`;
}

// Inline images refer to their MIME part as src="cid:<Content-ID>" (RFC 2392); point them at
// the attachment endpoint so the sandboxed frame can show them (the CSP allows 'self').
function withInlineImages(message, html) {
  const byCid = new Map();
  message.attachments.forEach((attachment, index) => {
    if (attachment.content_id) byCid.set(attachment.content_id.toLowerCase(), attachmentUrl(message, index));
  });
  if (!byCid.size) return html;
  return html.replace(/(["'])cid:([^"']+)\1/gi, (whole, quote, cid) => {
    const url = byCid.get(safeDecode(cid).toLowerCase());
    return url ? `${quote}${url}${quote}` : whole;
  });
}

function renderDetail(message) {
  const detail = $("#detail");
  detail.replaceChildren($("#detail-template").content.cloneNode(true));
  detail.dataset.id = message.id;
  $(".subject", detail).textContent = message.subject || "(no subject)";
  const meta = $(".meta tbody", detail);
  metaRow(meta, "From", message.source);
  metaRow(meta, "To", message.destination.to);
  metaRow(meta, "Cc", message.destination.cc);
  metaRow(meta, "Bcc", message.destination.bcc);
  metaRow(meta, "Reply-To", message.reply_to);
  metaRow(meta, "Envelope", `MAIL FROM ${message.envelope_from} → ${message.recipients.join(", ")}`);
  metaRow(meta, "Date", formatTime(message.timestamp_iso));
  metaRow(meta, "Sent with", `${message.api} ${message.operation}`);
  metaRow(meta, "Message ID", message.id);
  metaRow(meta, "Template", message.template);
  metaRow(meta, "Configuration set", message.configuration_set);
  metaRow(meta, "Tags", message.tags.map((t) => `${t.name}=${t.value}`));
  metaRow(meta, "Status", message.status === "accepted" ? null : `${message.status}: ${message.rendering_error || ""}`);

  // HTML: a sandbox with no permissions at all; the page's CSP applies to it as well.
  const htmlPanel = $('[data-panel="html"]', detail);
  if (message.html !== null) {
    const frame = el("iframe", { class: "html-body", sandbox: "", title: "HTML body", referrerpolicy: "no-referrer" });
    frame.srcdoc = withInlineImages(message, message.html);
    htmlPanel.append(frame);
  } else {
    htmlPanel.append(el("p", { class: "placeholder", text: "This message has no HTML part." }));
  }
  $(".text-body", detail).textContent = message.text ?? "(This message has no text part.)";

  const headers = $(".headers tbody", detail);
  for (const header of message.headers) {
    headers.append(el("tr", {}, [el("th", { text: header.name }), el("td", { text: header.value })]));
  }

  const rawLink = $(".raw-link", detail);
  rawLink.href = message.raw_url;
  rawLink.setAttribute("download", `${message.id}.eml`);

  const list = $(".attachments", detail);
  message.attachments.forEach((attachment, index) => {
    const name = attachment.filename || `attachment-${index}`;
    const link = el("a", {
      class: "attachment",
      href: attachmentUrl(message, index),
      download: name,
      text: name,
    });
    list.append(el("li", {}, [link, el("span", { class: "muted", text: ` ${attachment.content_type}, ${attachment.size} bytes` })]));
  });
  if (!message.attachments.length) list.append(el("li", { class: "placeholder", text: "No attachments." }));
  $('[data-tab="attachments"]', detail).textContent = `Attachments (${message.attachments.length})`;

  renderEvents(message);
  for (const button of detail.querySelectorAll(".tabs button")) {
    button.addEventListener("click", () => selectTab(button.dataset.tab));
  }
  selectTab(message.html === null && state.tab === "html" ? "text" : state.tab);
}

function renderEvents(message) {
  const detail = $("#detail");
  if (detail.dataset.id !== message.id) return;
  const list = $(".events", detail);
  list.replaceChildren();
  for (const event of message.events) {
    const summary = [event.type || event.eventType || "event", event.status, event.recipients && event.recipients.join(", ")]
      .filter(Boolean)
      .join(" · ");
    list.append(
      el("li", { class: `event ${event.status === "failed" ? "warn" : ""}` }, [
        el("details", {}, [
          el("summary", {}, [el("strong", { text: summary }), el("span", { class: "muted", text: ` ${event.timestamp || ""}` })]),
          el("pre", { text: JSON.stringify(event, null, 2) }),
        ]),
      ]),
    );
  }
  if (!message.events.length) list.append(el("li", { class: "placeholder", text: "No events yet." }));
  $('[data-tab="events"]', detail).textContent = `Events (${message.events.length})`;
}

async function selectTab(tab) {
  state.tab = tab;
  const detail = $("#detail");
  for (const button of detail.querySelectorAll(".tabs button")) {
    button.setAttribute("aria-selected", String(button.dataset.tab === tab));
  }
  for (const panel of detail.querySelectorAll(".panel")) panel.hidden = panel.dataset.panel !== tab;
  if (tab === "raw" && state.selected) {
    const pre = $(".raw-body", detail);
    if (pre.dataset.loaded !== state.selected.id) {
      try {
        pre.textContent = await (await api(state.selected.raw_url)).text();
        pre.dataset.loaded = state.selected.id;
      } catch (error) {
        showError(`Cannot read the raw message (${error.message}).`);
      }
    }
  }
}

async function reset() {
  if (!window.confirm("Delete every message and reset the emulator (identities, templates, clock)?")) return;
  try {
    await api("/_emulator/reset", { method: "POST" });
    state.selected = null;
    history.replaceState(null, "", location.pathname);
    $("#detail").replaceChildren(el("p", { class: "placeholder", text: "Select a message." }));
    delete $("#detail").dataset.id;
    await refresh();
  } catch (error) {
    showError(`Reset failed (${error.message}).`);
  }
}

function start() {
  let debounce = null;
  const searchNow = () => {
    clearTimeout(debounce);
    debounce = setTimeout(async () => {
      await refresh();
      schedule();
    }, 150);
  };
  $("#search").addEventListener("input", searchNow);
  $("#search-field").addEventListener("change", searchNow);
  $("#search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    searchNow();
  });
  $("#reset").addEventListener("click", reset);
  refresh().then(schedule);
  if (location.hash.length > 1) openMessage(safeDecode(location.hash.slice(1)));
}

start();
