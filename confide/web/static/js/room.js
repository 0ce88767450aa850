// Confide room: live messages over the room's WebSocket, sending without reloading, voice notes.
// Without JavaScript the page still works: the form posts and the page reloads.
(function () {
  "use strict";
  const root = document.getElementById("room");
  if (!root) return;
  const roomId = root.dataset.room;
  const me = Number(root.dataset.me);
  let lastSeq = Number(root.dataset.lastSeq || 0);
  const log = document.getElementById("log");
  const form = document.getElementById("composer");
  const status = document.getElementById("send-status");
  const body = document.getElementById("body");
  const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  let socket = null;
  let retry = 0;
  let readTimer = null;
  let deliveredTimer = null;
  // Messages written while the connection was down, sent (same ids) once it is back.
  const pending = new Map();
  const people = new Map();   // user id -> {name, state}
  const ticks = { delivered: new Map(), read: new Map() };  // user id -> seq
  const presenceLine = document.getElementById("presence");
  const typingLine = document.getElementById("typing");
  let typingTimer = null;
  let lastTyping = 0;

  function say(text) { status.textContent = text; }

  function timeText(iso) {
    const d = new Date(iso);
    return d.toLocaleString(undefined, { weekday: "short", day: "numeric", month: "short",
                                         hour: "2-digit", minute: "2-digit" });
  }

  function render(p) {
    const li = document.createElement("li");
    li.id = "m" + p.seq;
    li.dataset.seq = p.seq;
    li.className = "msg msg-" + p.kind + (p.sender && p.sender.id === me ? " mine" : "") +
      (p.deleted_at ? " deleted" : "");
    if (p.kind === "notice" || p.kind === "event") {
      const para = document.createElement("p");
      para.className = "notice-text";
      para.textContent = (p.kind === "event" ? timeText(p.created_at) + " · " : "") + p.body;
      li.appendChild(para);
      return li;
    }
    const head = document.createElement("div");
    head.className = "msg-head";
    const who = document.createElement("strong");
    who.className = "sender";
    who.textContent = p.sender ? (p.sender.id === me ? "You" : p.sender.name) : "Confide";
    const when = document.createElement("time");
    when.dateTime = p.created_at;
    when.textContent = timeText(p.created_at);
    head.append(who, " ", when);
    if (p.deleted_at || p.edited_at) {
      const hist = document.createElement("a");
      hist.className = "small";
      hist.href = "/rooms/" + roomId + "/messages/" + p.seq + "/history/";
      hist.textContent = p.deleted_at ? " deleted" : " edited";
      head.append(" ", hist);
    }
    if (p.sender && p.sender.id === me) {
      const tick = document.createElement("span");
      tick.className = "tick small";
      head.append(" ", tick);
    }
    li.appendChild(head);
    if (p.deleted_at) {
      const t = document.createElement("p");
      t.className = "tombstone";
      t.textContent = "This message was deleted.";
      li.appendChild(t);
      return li;
    }
    const content = document.createElement("div");
    content.className = "msg-body";
    content.innerHTML = p.html; // rendered and escaped by the server's safe Markdown subset
    li.appendChild(content);
    if (p.attachment) {
      const a = p.attachment;
      if (a.category === "audio") {
        const audio = document.createElement("audio");
        audio.controls = true;
        audio.preload = "none";
        audio.src = a.url;
        li.appendChild(audio);
      } else if (a.category === "image") {
        const img = document.createElement("img");
        img.className = "attached";
        img.src = a.url;
        img.alt = "Image attached by " + (p.sender ? p.sender.name : "someone");
        li.appendChild(img);
      } else {
        const link = document.createElement("a");
        link.className = "file";
        link.href = a.url;
        link.textContent = "Download the attached document";
        li.appendChild(link);
      }
    }
    return li;
  }

  function place(p) {
    const empty = document.getElementById("empty");
    if (empty) empty.remove();
    const existing = document.getElementById("m" + p.seq);
    const li = render(p);
    if (existing) {
      existing.replaceWith(li);
    } else {
      // Keep the log in sequence order even if events arrive out of order.
      const all = log.querySelectorAll("li[data-seq]");
      const last = all[all.length - 1];
      const later = last && Number(last.dataset.seq) > p.seq ?
        Array.from(all).find(function (el) { return Number(el.dataset.seq) > p.seq; }) : null;
      log.insertBefore(li, later || log.querySelector("li.pending"));
    }
    const waiting = p.client_id && document.getElementById("pending-" + p.client_id);
    if (waiting) waiting.remove();
    if (p.client_id) pending.delete(p.client_id);
    if (p.sender && p.sender.id !== me) typingLine.textContent = "";
    if (p.seq > lastSeq) {
      // lastSeq is the highest number up to which this page holds every message: a gap (an
      // event the channel layer lost) is filled by resuming from there.
      while (document.getElementById("m" + (lastSeq + 1))) lastSeq += 1;
      root.dataset.lastSeq = String(lastSeq);
      if (p.seq > lastSeq) resumeSoon();
      markReadSoon();
      if (!p.sender || p.sender.id !== me) markDeliveredSoon();
    }
    showTicks();
  }

  let resumeTimer = null;
  function resumeSoon() {
    clearTimeout(resumeTimer);
    resumeTimer = setTimeout(function () { send({ type: "resume", after: lastSeq }); }, 300);
  }

  function markDeliveredSoon() {
    clearTimeout(deliveredTimer);
    deliveredTimer = setTimeout(function () {
      send({ type: "delivered", seq: lastSeq });
    }, 300);
  }

  // Ticks on one's own messages: sent (committed), delivered to everyone else, seen.
  function showTicks() {
    const others = Array.from(people.keys()).filter(function (id) { return id !== me; });
    const deliveredTo = others.length ? Math.min.apply(null, others.map(function (id) {
      return ticks.delivered.get(id) || 0;
    })) : 0;
    let seenBy = 0;
    ticks.read.forEach(function (seq) { seenBy = Math.max(seenBy, seq); });
    log.querySelectorAll("li.mine").forEach(function (li) {
      const tick = li.querySelector(".tick");
      if (!tick) return;
      const seq = Number(li.dataset.seq);
      tick.textContent = seq <= seenBy ? "✓✓ seen" : seq <= deliveredTo ? "✓✓ delivered" : "✓ sent";
    });
  }

  function send(event) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(event));
      return true;
    }
    return false;
  }

  function showPresence() {
    const parts = [];
    people.forEach(function (person, id) {
      if (id === me) return;
      parts.push(person.name + (person.state === "here" ? " is here" :
        person.state === "away" ? " is away" : " is not here"));
    });
    presenceLine.hidden = parts.length === 0;
    presenceLine.textContent = parts.join(" · ");
  }

  function showTyping(name) {
    typingLine.textContent = name + " is typing…";
    clearTimeout(typingTimer);
    typingTimer = setTimeout(function () { typingLine.textContent = ""; }, 4000);
  }

  function markReadSoon() {
    if (document.visibilityState !== "visible") return;
    clearTimeout(readTimer);
    readTimer = setTimeout(function () { send({ type: "read", seq: lastSeq }); }, 800);
  }
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") resumeSoon();  // catch up after a long absence
    markReadSoon();
    send({ type: "presence", state: document.visibilityState === "visible" ? "here" : "away" });
  });

  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + "/ws/rooms/" + roomId + "/");
    socket.addEventListener("open", function () {
      retry = 0;
      root.dataset.live = "on";
      say("");
      socket.send(JSON.stringify({ type: "resume", after: lastSeq }));
    });
    socket.addEventListener("message", function (event) {
      const data = JSON.parse(event.data);
      if (data.type.startsWith("call.") || data.type === "live" || data.type === "hello") {
        document.dispatchEvent(new CustomEvent("confide:stream", { detail: data }));
      }
      switch (data.type) {
        case "hello":
          people.clear();
          data.presence.forEach(function (p) { people.set(p.user, { name: p.name, state: p.state }); });
          (data.receipts || []).forEach(function (r) {
            ticks.delivered.set(r.user, r.delivered);
            if (r.read !== null) ticks.read.set(r.user, r.read);
            if (!people.has(r.user)) people.set(r.user, { name: r.name, state: "gone" });
          });
          showPresence();
          showTicks();
          if ((data.live && data.live.id) !== (live.session || null)) refreshPanel();
          break;
        case "message": place(data.message); break;
        case "ack": acked(data); break;
        case "resumed": flushPending(); break;
        case "reload": location.reload(); break;
        case "presence":
          people.set(data.user, { name: data.name, state: data.state });
          showPresence();
          break;
        case "typing": showTyping(data.name); break;
        case "delivered": ticks.delivered.set(data.user, data.seq); showTicks(); break;
        case "read":
          ticks.read.set(data.user, data.seq);
          showTicks();
          if (data.user !== me && data.seq >= lastSeq) {
            document.getElementById("receipts").textContent = "Seen by " + data.name;
          }
          break;
        case "live": refreshPanel(); break;
        case "crisis": if (!data.open) location.reload(); break;
        case "error":
          if (data.client_id && pending.has(data.client_id)) {
            const item = pending.get(data.client_id);
            if (data.code === "rate_limited") {
              say(data.detail);
              setTimeout(function () { send(item.event); }, (data.retry_after || 5) * 1000);
            } else {
              pending.delete(data.client_id);
              const li = document.getElementById("pending-" + data.client_id);
              if (li) li.remove();
              body.value = item.event.body;
              say(data.detail || "The message was not sent.");
            }
          }
          break;
      }
    });
    socket.addEventListener("close", function (event) {
      root.dataset.live = "off";
      if (event.code === 4403 || event.code === 4404 || event.code === 4401) {
        say("You no longer have access to this room: reload the page.");
        return;
      }
      if (event.code === 4429) {
        say("This room is open in too many tabs: close one and reload.");
        return;
      }
      say("Reconnecting…");
      retry = Math.min(retry + 1, 6);
      reconnectTimer = setTimeout(connect, 500 * Math.pow(2, retry - 1));
    });
  }
  let reconnectTimer = null;
  // Back online: reconnect now rather than at the end of the back-off.
  window.addEventListener("online", function () {
    if (socket && socket.readyState === WebSocket.CLOSED && root.dataset.live === "off" &&
        reconnectTimer !== null) {
      clearTimeout(reconnectTimer);
      reconnectTimer = null;
      connect();
    }
  });
  // For tests and debugging: the current socket (no message content is exposed here).
  window.confideRoom = { socket: function () { return socket; }, send: send, me: me };

  function acked(data) {
    const item = pending.get(data.client_id);
    if (item) {
      pending.delete(data.client_id);
      say("Sent.");
    }
    if (data.crisis) location.assign("?crisis=1");
  }

  function flushPending() {
    pending.forEach(function (item) { send(item.event); });
  }

  // Sends a text message over the socket; while the connection is down it waits in the log as
  // "not sent yet" and goes out, with the same id, when the connection returns.
  function sendLive(text, clientId) {
    const event = { type: "send", body: text, client_id: clientId };
    pending.set(clientId, { event: event });
    const li = document.createElement("li");
    li.className = "msg mine pending";
    li.id = "pending-" + clientId;
    const para = document.createElement("p");
    para.textContent = text;
    const note = document.createElement("p");
    note.className = "small";
    note.textContent = "Not sent yet: it goes out when the connection is back.";
    li.append(para, note);
    if (!send(event)) {
      log.appendChild(li);
      say("Offline: your message will be sent when the connection returns.");
    } else {
      setTimeout(function () {
        if (pending.has(clientId) && !document.getElementById(li.id)) log.appendChild(li);
      }, 3000);
    }
  }

  // --- the live session panel -----------------------------------------------------------
  const live = { session: null, timer: null };
  function panel() { return document.getElementById("live-panel"); }

  function readPanel() {
    const el = panel();
    live.session = el && el.dataset.session ? Number(el.dataset.session) : null;
    clearInterval(live.timer);
    if (!el || el.dataset.state !== "admitted") return;
    const started = Date.parse(el.dataset.started);
    const ends = Date.parse(el.dataset.ends);
    const skew = Date.parse(el.dataset.serverTime) - Date.now();
    const elapsed = document.getElementById("live-elapsed");
    const warning = document.getElementById("live-warning");
    function tick() {
      const now = Date.now() + skew;
      const minutes = Math.max(0, Math.floor((now - started) / 60000));
      const left = Math.ceil((ends - now) / 60000);
      elapsed.textContent = String(minutes);
      if (left <= 5 && left > 0) {
        warning.hidden = false;
        warning.textContent = "About " + left + " minute" + (left === 1 ? "" : "s") + " left in this session.";
      } else if (left <= 0) {
        warning.hidden = false;
        warning.textContent = "The planned time is over.";
      }
    }
    tick();
    live.timer = setInterval(tick, 1000);
  }

  async function refreshPanel() {
    const el = panel();
    if (!el) return;
    try {
      const response = await fetch(el.dataset.panelUrl, {
        credentials: "same-origin", headers: { "X-Requested-With": "fetch" },
      });
      if (!response.ok) return;
      const holder = document.createElement("div");
      holder.innerHTML = await response.text(); // our own template, rendered by the server
      const fresh = holder.querySelector("#live-panel");
      if (fresh) {
        panel().replaceWith(fresh);
        readPanel();
        document.dispatchEvent(new CustomEvent("confide:panel", { detail: fresh.dataset }));
      }
    } catch (err) { /* offline: the next event or reconnect refreshes it */ }
  }

  root.addEventListener("submit", async function (event) {
    const f = event.target;
    if (!f.classList || !f.classList.contains("live-form")) return;
    event.preventDefault();
    const response = await fetch(f.action, {
      method: "POST", body: new FormData(f, event.submitter), credentials: "same-origin",
      headers: { "X-CSRFToken": csrf, "X-Requested-With": "fetch" },
    }).catch(function () { return null; });
    if (!response) { say("Offline: try again when the connection is back."); return; }
    if (!response.ok) say(await response.text());
    refreshPanel();
  });
  readPanel();

  body.addEventListener("input", function () {
    if (Date.now() - lastTyping > 2000) {
      lastTyping = Date.now();
      send({ type: "typing" });
    }
  });

  if ("WebSocket" in window) connect();

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "10000000-1000-4000-8000-100000000000".replace(/[018]/g, function (c) {
      return (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16);
    });
  }

  function showCrisis(crisis) {
    if (!crisis || document.getElementById("crisis-now")) return;
    const box = document.createElement("div");
    box.className = "crisis urgent";
    box.id = "crisis-now";
    box.setAttribute("role", "alert");
    const h = document.createElement("h2");
    h.textContent = "You don't have to wait for a reply";
    const p = document.createElement("p");
    p.textContent = "What you wrote sounds like you may be in danger. Your therapist has been " +
      "told, but may not see it straight away. Please reach out now:";
    const ul = document.createElement("ul");
    const items = [["Emergency services", crisis.emergency_number]].concat(
      crisis.lines.map(function (l) { return [l.name, l.phone || l.text || ""]; }));
    items.forEach(function (pair) {
      const li = document.createElement("li");
      li.textContent = pair[0] + (pair[1] ? ": " + pair[1] : "");
      ul.appendChild(li);
    });
    box.append(h, p, ul);
    root.insertBefore(box, root.children[1]);
    box.scrollIntoView({ block: "center" });
  }

  async function post(data, attempt) {
    try {
      const response = await fetch(root.dataset.sendUrl, {
        method: "POST", body: data, credentials: "same-origin",
        headers: { "Accept": "application/json", "X-CSRFToken": csrf },
      });
      const answer = await response.json();
      if (!response.ok) {
        say(answer.detail || "The message was not sent.");
        return false;
      }
      place(answer.message);
      showCrisis(answer.crisis);
      say("Sent.");
      return true;
    } catch (err) {
      // Offline or the server is restarting: try again with the same id (sends are idempotent).
      if (attempt < 6) {
        say("Not sent yet: retrying…");
        await new Promise(function (r) { setTimeout(r, 1000 * Math.pow(2, attempt)); });
        return post(data, attempt + 1);
      }
      say("Could not send. Your text is still here; try again.");
      return false;
    }
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    const data = new FormData(form);
    if (!String(data.get("body") || "").trim() && !(data.get("attachment") || {}).size) {
      say("Write something first.");
      return;
    }
    const hasFile = (data.get("attachment") || {}).size;
    if (!hasFile && "WebSocket" in window && socket) {
      sendLive(String(data.get("body")), String(data.get("client_id")));
      body.value = "";
      form.querySelector("input[name=client_id]").value = newId();
      return;
    }
    say("Sending…");
    const ok = await post(data, 0);
    if (ok) {
      body.value = "";
      form.querySelector("input[type=file]").value = "";
      form.querySelector("input[name=client_id]").value = newId();
    }
  });

  document.querySelectorAll("form[data-confirm]").forEach(function (f) {
    f.addEventListener("submit", function (event) {
      if (!window.confirm(f.dataset.confirm)) event.preventDefault();
    });
  });

  // Voice notes, recorded in the browser and sent like any attachment.
  const recordButton = document.getElementById("record");
  if (recordButton && window.MediaRecorder && navigator.mediaDevices) {
    recordButton.hidden = false;
    let recorder = null;
    let chunks = [];
    let started = 0;
    recordButton.addEventListener("click", async function () {
      if (recorder && recorder.state === "recording") {
        recorder.stop();
        return;
      }
      try {
        const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
        recorder = new MediaRecorder(stream);
        chunks = [];
        recorder.addEventListener("dataavailable", function (e) { chunks.push(e.data); });
        recorder.addEventListener("stop", async function () {
          stream.getTracks().forEach(function (t) { t.stop(); });
          recordButton.textContent = "Record a voice note";
          recordButton.setAttribute("aria-pressed", "false");
          const blob = new Blob(chunks, { type: recorder.mimeType || "audio/webm" });
          const data = new FormData();
          data.append("csrfmiddlewaretoken", csrf);
          data.append("client_id", newId());
          data.append("body", "");
          data.append("voice", "1");
          data.append("duration_ms", String(Date.now() - started));
          data.append("attachment", blob, "voice-note.webm");
          say("Sending the voice note…");
          await post(data, 0);
        });
        started = Date.now();
        recorder.start();
        recordButton.textContent = "Stop and send";
        recordButton.setAttribute("aria-pressed", "true");
        say("Recording…");
      } catch (err) {
        say("The microphone is not available.");
      }
    });
  }
  markReadSoon();
})();
