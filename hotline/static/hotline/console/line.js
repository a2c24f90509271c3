/*
 * A hotline conversation in the console, over the page's one websocket (hotline
 * protocol v1, docs/hotline-protocol.md). Plain JavaScript; licence: the project's.
 *
 * - On every (re)connect: subscribe with since_seq = the last seq shown, so the server
 *   replays exactly what was missed; frames are placed by seq and never shown twice.
 * - Send: a composed message gets one client_msg_id, kept until the server's `sent`
 *   arrives. A double click, a retry, or a resend after a reconnect reuses it, so the
 *   server stores the message once.
 * - Messages from other desks are marked read; flash messages get an Acknowledge button.
 * - Without a socket (the server or the network is away, or the socket went silent and
 *   console.js gave up on it) a message is sent over REST with the same client_msg_id (POST /api/v1/channels/<id>/messages/: stored once, however
 *   often it is retried), and the line is polled over REST until the socket is back.
 * - Each message shows its TLP label; `withheld` frames (a marking that keeps a message
 *   from us) only move the last seq on.
 * - Presence: who is online on the line (#presence), kept current by the server's
 *   `presence` frames; after each subscribe the page asks again (a `presence` frame), so
 *   a reconnect never leaves a stale "online".
 * - The line's own status changing (accepted, archived: a `hotline.channel` event for this
 *   line) reloads the page, which then offers what the new status allows.
 */
(function () {
  "use strict";
  var list = document.getElementById("conversation");
  if (!list || !window.Console) return;
  var cfg = JSON.parse(list.getAttribute("data-config"));
  var lastSeq = cfg.lastSeq;
  var outbox = {};  // client_msg_id -> frame, until `sent`
  var form = document.getElementById("compose");
  var status = document.getElementById("compose-status");

  function uuid4() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  var clock = document.querySelector("[data-clock]");
  var zone = clock ? clock.getAttribute("data-zone") : "UTC";
  // The words of this page in the reader's language, from the server (%(name)s filled here).
  var words = cfg.strings || {};
  function say(key, params) {
    return (words[key] || key).replace(/%\((\w+)\)s/g, function (m, name) {
      return params && name in params ? String(params[name]) : m;
    });
  }
  // As the server's dual_time: the desk's local time first, UTC beside it.
  function utc(iso) {
    if (!iso) return "";
    var u = iso.replace("T", " ").slice(0, 16);
    if (!zone || zone === "UTC") return u + " UTC";
    try {
      var local = new Date(iso).toLocaleString("sv-SE", { timeZone: zone, year: "numeric",
        month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
      return local.slice(0, 16) + " (" + zone + ") · " +
        (local.slice(0, 10) === u.slice(0, 10) ? u.slice(11) : u) + " UTC";
    } catch (e) { return u + " UTC"; /* unknown zone: UTC only */ }
  }
  function code(deskId) { return cfg.deskCodes[String(deskId)] || say("desk", { id: deskId }); }

  function ackButton(id, seq) {
    var b = el("button", "ack", say("ackFlash", { seq: seq }));
    b.type = "button";
    b.setAttribute("data-ack", id);
    return b;
  }

  function render(f) {
    var li = el("li");
    li.id = "msg-" + f.seq;
    li.setAttribute("data-seq", f.seq);
    li.setAttribute("data-id", f.id);
    li.setAttribute("data-sender-desk", f.sender_desk || "");
    var mine = cfg.desk && f.sender_desk === cfg.desk;
    if (mine) li.classList.add("mine");
    if (f.priority === "flash") li.classList.add("flash");
    var head = el("div");
    if (f.exercise) {
      // Drill traffic is marked on every message, as real drill traffic is.
      li.classList.add("exercise");
      li.setAttribute("data-exercise", "");
      head.appendChild(el("span", "badge exercise", cfg.exerciseMark || "EXERCISE"));
      head.appendChild(document.createTextNode(" "));
    }
    if (f.tlp) {
      // FIRST TLP 2.0 label, coloured by console.css (.tlp-red, .tlp-amber …).
      var tlp = el("span", "tlp tlp-" + f.tlp.toLowerCase().replace("+", "-"), f.tlp_label);
      tlp.setAttribute("data-tlp", f.tlp);
      head.appendChild(tlp);
      head.appendChild(document.createTextNode(" "));
    }
    var prio = (cfg.priorities || {})[f.priority] || f.priority;
    head.appendChild(el("span", "badge prio-" + f.priority, prio));
    head.appendChild(document.createTextNode(" "));
    head.appendChild(el("strong", "", f.sender_desk ? code(f.sender_desk) : say("lineCheck")));
    if (f.sender) head.appendChild(document.createTextNode(" · " + f.sender));
    head.appendChild(document.createTextNode(" · "));
    head.appendChild(el("span", "muted", "#" + f.seq + " · " + utc(f.created_at)));
    li.appendChild(head);
    li.appendChild(el("div", "body", f.body));
    var receipts = el("div", "receipts muted");
    receipts.setAttribute("data-receipts", "");
    li.appendChild(receipts);
    if (!mine && cfg.desk && f.priority === "flash") li.appendChild(ackButton(f.id, f.seq));
    return li;
  }

  function place(li, seq) {
    var empty = document.getElementById("no-messages");
    if (empty) empty.remove();
    var after = null;
    list.querySelectorAll("li[data-seq]").forEach(function (other) {
      if (Number(other.getAttribute("data-seq")) < seq) after = other;
    });
    if (after) after.after(li); else list.prepend(li);
    list.scrollTop = list.scrollHeight;
  }

  function markRead(f) {
    if (!cfg.desk || !f.sender_desk || f.sender_desk === cfg.desk) return;
    Console.send({ type: "read", message: f.id, desk: cfg.desk });
  }

  // --- over REST while the socket is down -------------------------------------------------
  var api = "/api/v1/channels/" + cfg.channel + "/messages/";
  var pollTimer = null;
  var POLL_MS = 4000;
  function csrf() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }
  // A request the network holds (a dead link, not a refusal) gives up after a while.
  function fetchWithin(url, options, ms) {
    var ctrl = window.AbortController ? new AbortController() : null;
    var timer = ctrl ? setTimeout(function () { ctrl.abort(); }, ms) : null;
    if (ctrl) options.signal = ctrl.signal;
    return fetch(url, options).finally(function () { if (timer) clearTimeout(timer); });
  }
  // lastSeq only moves over seqs shown without a gap (a REST answer for our own message
  // may come before others' messages): the next poll or subscribe asks from there.
  function show(f) {
    if (!document.getElementById("msg-" + f.seq)) place(render(f), f.seq);  // once only
    while (document.getElementById("msg-" + (lastSeq + 1))) lastSeq += 1;
  }
  function confirmed(f, how) {
    delete outbox[f.client_msg_id];
    if (form && form.dataset.clientMsgId === f.client_msg_id) {
      delete form.dataset.clientMsgId;
      form.reset();
      form.querySelector("button[type=submit]").disabled = false;
      status.textContent = say(how || (f.duplicate ? "sentAsAgain" : "sentAs"), { seq: f.seq });
    }
  }
  function sendOverRest(frame) {
    var body = { body: frame.body, client_msg_id: frame.client_msg_id, priority: frame.priority };
    if (frame.desk) body.desk = frame.desk;
    return fetchWithin(api, { method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf(), Accept: "application/json" },
      body: JSON.stringify(body) }, 5000)
      .then(function (r) {
        return r.json().then(function (data) { return { ok: r.ok, status: r.status, data: data }; });
      })
      .then(function (res) {
        if (res.ok) {
          show(res.data);
          confirmed({ client_msg_id: frame.client_msg_id, seq: res.data.seq, duplicate: res.status === 200 },
            "sentOverWeb");
          return;
        }
        if (res.status >= 400 && res.status < 500) {  // refused: retrying would not help
          delete outbox[frame.client_msg_id];
          if (form) {
            delete form.dataset.clientMsgId;
            form.querySelector("button[type=submit]").disabled = false;
          }
          status.textContent = say("notSent", { reason: res.data.message || say("errorStatus", { status: res.status }) });
        } else {
          status.textContent = say("busy");
        }
      })
      .catch(function () {
        status.textContent = say("offline");
      });
  }
  function poll() {
    pollTimer = null;
    if (Console.isOpen()) return;
    fetchWithin(api + "?after_seq=" + lastSeq,
      { credentials: "same-origin", headers: { Accept: "application/json" } }, 5000)
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (page) {
        if (page) page.results.forEach(show);
        list.setAttribute("data-polled", String(lastSeq));
      })
      .catch(function () { /* still offline: the next poll tries again */ })
      .then(function () { if (!Console.isOpen() && !pollTimer) pollTimer = setTimeout(poll, POLL_MS); });
  }

  Console.on("open", function () {
    if (pollTimer) { clearTimeout(pollTimer); pollTimer = null; }
    list.removeAttribute("data-polled");
    Console.send({ type: "subscribe", channel: cfg.channel, since_seq: lastSeq, ref: "sub" });
    Object.keys(outbox).forEach(function (id) { Console.send(outbox[id]); });
  });

  Console.on("message", function (f) {
    if (f.channel !== cfg.channel) return;
    var fresh = !document.getElementById("msg-" + f.seq);
    show(f);
    if (fresh) markRead(f);
  });

  // A message whose TLP marking keeps it from us: only its seq moves on.
  Console.on("withheld", function (f) {
    if (f.channel === cfg.channel && f.seq > lastSeq) lastSeq = f.seq;
  });

  Console.on("close", function () {
    list.removeAttribute("data-subscribed");
    if (!pollTimer) pollTimer = setTimeout(poll, POLL_MS);
    // Frames sent into a socket that died silently may never have arrived: send what is
    // still unconfirmed over REST now, with the same client_msg_id (stored once, even if
    // the socket's copy did arrive or the next socket sends it again).
    Object.keys(outbox).forEach(function (id) {
      if (status) status.textContent = say("sendingWeb");
      sendOverRest(outbox[id]);
    });
  });

  Console.on("subscribed", function (f) {
    if (f.channel !== cfg.channel) return;
    list.setAttribute("data-subscribed", String(f.last_seq));
    // Who is online now (presence changes from here on arrive as frames of their own).
    Console.send({ type: "presence", channel: cfg.channel, ref: "presence" });
    if (cfg.desk && f.last_seq > 0) {
      Console.send({ type: "delivered", channel: cfg.channel, up_to_seq: f.last_seq, desk: cfg.desk });
    }
    // Messages shown by the server render that this desk has not read yet.
    list.querySelectorAll("li[data-seq]").forEach(function (li) {
      var sender = Number(li.getAttribute("data-sender-desk"));
      var mineRead = li.querySelector('[data-receipts] [data-desk="' + cfg.desk + '"]');
      if (sender && sender !== cfg.desk && !(mineRead && /read|acknowledged/.test(mineRead.getAttribute("data-state") || ""))) {
        Console.send({ type: "read", message: Number(li.getAttribute("data-id")), desk: cfg.desk });
      }
    });
  });

  // --- presence: who is online on this line ----------------------------------------------
  var presence = document.getElementById("presence");
  Console.on("presence", function (f) {
    if (!presence || (f.channel && f.channel !== cfg.channel)) return;
    var li = presence.querySelector('[data-presence-desk="' + f.desk + '"]');
    if (!li) return;  // not a desk of this line
    var online = f.online === true;
    li.setAttribute("data-online", online ? "true" : "false");
    var badge = li.querySelector(".badge");
    badge.classList.toggle("ok", online);
    li.querySelector("[data-presence-state]").textContent = say(online ? "deskOnline" : "deskOffline");
    li.querySelector("[data-last-seen]").textContent =
      !online && f.last_seen_at ? say("lastSeen", { time: utc(f.last_seen_at) }) : "";
  });

  // The line was accepted or archived: the page offers what its new status allows.
  Console.on("hotline.channel", function (f) {
    if (f.channel === cfg.channel && f.status && f.status !== cfg.status &&
        (f.status === "active" || f.status === "archived")) {
      window.location.reload();
    }
  });

  Console.on("receipt", function (f) {
    if (f.channel !== cfg.channel) return;
    var li = document.getElementById("msg-" + f.seq);
    if (!li) return;
    var box = li.querySelector("[data-receipts]");
    var state = f.acknowledged_at ? "acknowledged" : f.read_at ? "read" : "delivered";
    var word = say(state);
    var span = box.querySelector('[data-desk="' + f.desk + '"]');
    if (!span) {
      if (box.children.length) box.appendChild(document.createTextNode(" · "));
      span = el("span");
      span.setAttribute("data-desk", f.desk);
      box.appendChild(span);
    }
    span.setAttribute("data-state", state);
    span.textContent = code(f.desk) + ": " + word;
    if (f.acknowledged_at && f.desk === cfg.desk) {
      var button = li.querySelector("button[data-ack]");
      if (button) button.replaceWith(el("span", "badge ok acked", say("Acknowledged")));
    }
  });

  Console.on("sent", function (f) {
    if (!outbox[f.client_msg_id]) return;
    confirmed(f, "");
  });

  Console.on("error", function (f) {
    if (f.ref && outbox[f.ref]) {
      // Refused (not a transport problem): retrying the same frame would not help.
      delete outbox[f.ref];
      if (form) {
        delete form.dataset.clientMsgId;
        form.querySelector("button[type=submit]").disabled = false;
      }
      if (status) status.textContent = say("notSent", { reason: f.message });
    } else if (status && f.message) {
      status.textContent = f.message;
    }
  });

  list.addEventListener("click", function (e) {
    var button = e.target.closest("button[data-ack]");
    if (!button) return;
    button.disabled = true;
    if (!Console.send({ type: "ack", message: Number(button.getAttribute("data-ack")), desk: cfg.desk })) {
      button.disabled = false;
    }
  });

  if (form) {
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var body = form.body.value;
      if (!body.trim()) { status.textContent = say("writeFirst"); return; }
      // One id per composed message, reused by every retry until the server confirms.
      if (!form.dataset.clientMsgId) form.dataset.clientMsgId = uuid4();
      var id = form.dataset.clientMsgId;
      var frame = { type: "send", channel: cfg.channel, client_msg_id: id, body: body,
        priority: form.priority.value, tlp: form.tlp.value, desk: cfg.desk, ref: id };
      outbox[id] = frame;
      form.querySelector("button[type=submit]").disabled = true;
      if (Console.send(frame)) {
        status.textContent = say("sending");
      } else {
        status.textContent = say("sendingWeb");
        sendOverRest(frame);
      }
    });
  }
})();
