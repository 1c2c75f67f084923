// The "Your devices" page: cookies only (tokens never reach script), every text set with
// textContent (device names come from any client), every refusal told in words.
"use strict";

const $ = (id) => document.getElementById(id);

function el(tag, attributes = {}, text) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

function say(text) {
  $("status").textContent = text;
}

// Same-origin fetch: the browser sends the cookies and, on changes, the Origin header the
// server's CSRF guard checks.
async function call(method, path, body, headers = {}) {
  const options = { method, credentials: "same-origin", headers: { ...headers } };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (_) { data = null; }
  return { status: response.status, data };
}

// An expired access cookie is renewed through the refresh route (the refresh cookie is
// sent there only); then the request is made again once.
async function authed(method, path, body) {
  let reply = await call(method, path, body);
  if (reply.status === 401) {
    const renewed = await call("POST", "/auth/refresh");
    if (renewed.status === 200) reply = await call(method, path, body);
  }
  return reply;
}

function inWords(seconds) {
  const units = [["day", 86400], ["hour", 3600], ["minute", 60], ["second", 1]];
  for (const [unit, size] of units) {
    if (seconds >= size || unit === "second") {
      const count = Math.ceil(seconds / size);
      return `${count} ${unit}${count === 1 ? "" : "s"}`;
    }
  }
  return "";
}

function ago(iso) {
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (seconds < 45) return "just now";
  return `${inWords(seconds)} ago`;
}

function refusal(reply, action) {
  const code = reply.data && reply.data.code;
  const wait = reply.data && reply.data.retry_after;
  switch (code) {
    case "delete_too_soon":
      return `This device is too new to ${action}: it can remove other devices in ${inWords(wait)}.`;
    case "update_too_soon":
      return `This device is too new to ${action}: it can change other devices in ${inWords(wait)}.`;
    case "global_delete_disabled":
      return "Removing other devices is turned off for this account.";
    case "global_update_disabled":
      return "Changing other devices is turned off for this account.";
    case "permission_denied":
      return `This device is not allowed to ${action}.`;
    case "device_not_found":
      return "That device is no longer signed in.";
    case "invalid_request":
      return "That name cannot be used: it must be 1 to 100 visible characters.";
    case "csrf_rejected":
      return "The request did not come from this page, so nothing was changed.";
    case "rate_limited":
      return `Too many attempts; try again in ${inWords(wait || 1)}.`;
    case "storage_unavailable":
      return "The service is unavailable right now; nothing was changed. Try again shortly.";
    default:
      return `Could not ${action} (${code || reply.status}).`;
  }
}

function browserAndOs(userAgent) {
  const browsers = [["Edg/", "Edge"], ["OPR/", "Opera"], ["Firefox/", "Firefox"],
    ["Chrome/", "Chrome"], ["Safari/", "Safari"], ["curl/", "curl"]];
  const systems = [["Android", "Android"], ["iPhone", "iOS"], ["iPad", "iPadOS"],
    ["Windows", "Windows"], ["Mac OS X", "macOS"], ["CrOS", "ChromeOS"], ["Linux", "Linux"]];
  const find = (list) => (list.find(([needle]) => userAgent.includes(needle)) || [null, null])[1];
  const browser = find(browsers);
  const os = find(systems);
  if (browser && os) return `${browser} on ${os}`;
  return browser || os || "Unknown browser";
}

function place(location) {
  if (!location) return "Unknown location";
  // "Lisbon, Portugal" rather than "Lisbon, Lisbon, Portugal" when the region is the city's.
  const parts = [location.city, location.region, location.country]
    .filter((part, index, all) => part && all.indexOf(part) === index);
  return parts.length ? parts.join(", ") : "Unknown location";
}

function deviceItem(device) {
  const item = el("li", { class: "device", "data-device-id": device.id });
  const title = el("h3", {}, device.name);
  if (device.current) title.append(el("span", { class: "current" }, "This device"));
  // SPEC §9: its tokens work only with the key the device holds.
  if (device.key_bound) {
    title.append(el("span", { class: "key-bound", title: "Its sign-in only works together with a key that never leaves the device." }, "Key-bound"));
  }
  item.append(title);
  const facts = el("dl");
  const rows = [
    ["Browser", browserAndOs(device.user_agent || "")],
    ["Location", place(device.location)],
    ["IP address", device.last_ip || device.ip || "Unknown"],
    ["First seen", ago(device.created_at)],
    ["Last seen", ago(device.last_seen_at)],
  ];
  for (const [label, value] of rows) {
    facts.append(el("dt", {}, label), el("dd", {}, value));
  }
  item.append(facts);

  const form = el("form", { class: "rename" });
  const inputId = `rename-${device.id}`;
  form.append(el("label", { for: inputId }, "New name"));
  const input = el("input", { id: inputId, maxlength: "100", required: "" });
  input.value = device.name;
  form.append(input, el("button", { type: "submit", class: "secondary" }, "Rename"));
  const note = el("p", { class: "refusal", role: "alert" });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const reply = await authed("PATCH", `/devices/${device.id}`, { name: input.value });
    if (reply.status === 200) { say(`Renamed to “${reply.data.name}”.`); await show(); }
    else if (reply.status === 401) signedOut();
    else note.textContent = refusal(reply, "rename other devices");
  });
  item.append(form);

  if (!device.current) {
    const remove = el("button", { type: "button", class: "secondary" }, `Remove ${device.name}`);
    remove.addEventListener("click", async () => {
      const reply = await authed("DELETE", `/devices/${device.id}`);
      if (reply.status === 204) { say(`Removed “${device.name}”.`); await show(); }
      else if (reply.status === 401) signedOut();
      else note.textContent = refusal(reply, "remove other devices");
    });
    item.append(remove);
  }
  item.append(note);
  return item;
}

/** What an activity entry says, in words: never the raw code alone. */
const WHAT = {
  login: "Signed in",
  login_rejected: "Sign-in refused",
  refresh_reuse: "An old session key was used again",
  device_revoked: "Signed out",
  device_evicted: "Signed out to make room for a new device",
  device_expired: "Session ended after inactivity",
  device_renamed: "Renamed",
  permissions_changed: "Permissions changed",
  proof_refused: "Refused: this device's sign-in was used without its key",
};

const WHY = {
  logout: "by itself",
  revoked_by_device: "by another of your devices",
  single_login: "by a newer sign-in",
  refresh_reuse: "because an old session key was used again",
  too_many_devices: "too many devices",
  rate_limited: "too many attempts",
  bound_token_as_bearer: "(the key was missing)",
  wrong_key: "(signed with another key)",
  replayed: "(a proof was sent twice)",
};

function activityItem(entry) {
  const item = el("li", { class: "activity" });
  let what = WHAT[entry.kind] || entry.kind;
  if (entry.device_name) what += ` · ${entry.device_name}`;
  const detail = entry.detail || "";
  const why = WHY[detail] ||
    (detail.startsWith("application:") ? `by the service (${detail.slice(12)})` : "") ||
    (entry.kind === "device_renamed" ? `to “${detail}”` : "");
  item.append(el("strong", {}, what));
  if (why) item.append(el("span", {}, ` ${why}`));
  const where = [ago(entry.at), entry.location ? place(entry.location) : "", entry.ip || ""]
    .filter(Boolean).join(" · ");
  item.append(el("div", { class: "meta" }, where));
  return item;
}

async function showActivity() {
  const reply = await authed("GET", "/devices/activity?limit=10");
  if (reply.status !== 200) { $("activity").hidden = true; return; }
  if (reply.data.history_kept === false) {
    // Nothing is recorded here: say so, rather than show an empty history.
    const note = el("li", { class: "activity hint" }, "This service keeps no history of sign-ins and device changes.");
    $("activity-list").replaceChildren(note);
  } else {
    $("activity-list").replaceChildren(...reply.data.events.map(activityItem));
  }
  $("activity").hidden = false;
}

function signedOut(message) {
  $("devices").hidden = true;
  $("activity").hidden = true;
  $("sign-in").hidden = false;
  say(message || "Signed out.");
  $("username").focus();
}

async function show() {
  const reply = await authed("GET", "/devices");
  if (reply.status !== 200) {
    signedOut(reply.status === 401 ? "Please sign in." : refusal(reply, "list your devices"));
    return;
  }
  const list = $("device-list");
  list.replaceChildren(...reply.data.map(deviceItem));
  $("sign-in").hidden = true;
  $("devices").hidden = false;
  await showActivity();
}

$("sign-in-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const headers = { "X-Token-Transport": "cookie" };
  const name = $("device-name").value.trim();
  if (name) headers["X-Device-Name"] = name;
  let reply;
  try {
    reply = await call("POST", "/auth/login",
      { username: $("username").value, password: $("password").value }, headers);
  } catch (_) {
    say("That device name cannot be sent: use letters, digits and punctuation.");
    return;
  }
  $("password").value = "";
  if (reply.status === 200) { say("Signed in."); await show(); }
  else if (reply.status === 401) say("Wrong username or password.");
  else say(refusal(reply, "sign in"));
});

$("revoke-others").addEventListener("click", async () => {
  const reply = await authed("POST", "/devices/revoke-others");
  if (reply.status === 200) {
    const n = reply.data.revoked;
    say(`Signed out ${n} other device${n === 1 ? "" : "s"}.`);
    await show();
  } else if (reply.status === 401) signedOut();
  else say(refusal(reply, "sign out other devices"));
});

// Sign-out goes to the refresh route, the one place the refresh cookie is sent: it ends
// the device even when the access cookie has expired. Every answer clears both cookies;
// the page says "Signed out" only when the server ended the device.
const SIGN_OUT_ENDED = {
  refresh_token_invalid: "This browser's session had already ended: it is signed out.",
  refresh_token_expired: "This browser's session had already ended: it is signed out.",
  refresh_token_reused: "Signed out. This browser's session key had been used elsewhere, " +
    "so the device was removed: check your recent activity from another device.",
};

$("sign-out").addEventListener("click", async () => {
  let reply;
  try {
    reply = await call("DELETE", "/auth/refresh");
  } catch (_) {
    say("Sign-out failed: the server could not be reached. Try again.");
    return;
  }
  if (reply.status === 204) { signedOut("Signed out."); return; }
  const code = reply.data && reply.data.code;
  if (SIGN_OUT_ENDED[code]) { signedOut(SIGN_OUT_ENDED[code]); return; }
  $("devices").hidden = true;
  $("activity").hidden = true;
  $("sign-in").hidden = false;
  say(`Sign-out failed (${code || reply.status}): this browser no longer holds the ` +
    "session, but the device may still be signed in. Remove it from another device.");
});

show();
