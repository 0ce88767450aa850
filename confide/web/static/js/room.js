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
    if (p.kind === "notice") {
      const para = document.createElement("p");
      para.className = "notice-text";
      para.textContent = p.body;
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
      log.appendChild(li);
    }
    if (p.seq > lastSeq) {
      lastSeq = p.seq;
      root.dataset.lastSeq = String(lastSeq);
      markReadSoon();
    }
  }

  function markReadSoon() {
    if (document.visibilityState !== "visible") return;
    clearTimeout(readTimer);
    readTimer = setTimeout(function () {
      if (socket && socket.readyState === WebSocket.OPEN) {
        socket.send(JSON.stringify({ type: "read", seq: lastSeq }));
      }
    }, 800);
  }
  document.addEventListener("visibilitychange", markReadSoon);

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
      if (data.type === "message") place(data.message);
      else if (data.type === "reload") location.reload();
      else if (data.type === "read" && data.user !== me && data.seq >= lastSeq) {
        document.getElementById("receipts").textContent = "Seen by " + data.name;
      }
      else if (data.type === "crisis" && !data.open) location.reload();
    });
    socket.addEventListener("close", function (event) {
      root.dataset.live = "off";
      if (event.code === 4403 || event.code === 4404 || event.code === 4401) {
        say("You no longer have access to this room.");
        return;
      }
      say("Reconnecting…");
      retry = Math.min(retry + 1, 6);
      setTimeout(connect, 500 * Math.pow(2, retry - 1));
    });
  }
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
