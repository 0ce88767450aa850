// Confide calls: WebRTC between the admitted participants of a voice or video session, with the
// signaling on the room's WebSocket (docs/protocol.md, "Calls"). One peer connection per other
// participant (1:1 and couples). Nothing is recorded. The connection panel shows the measured
// delay and quality; a poor connection offers, then switches to, voice only (thresholds below).
(function () {
  "use strict";
  const area = document.getElementById("call");
  if (!area || !window.RTCPeerConnection) return;
  const room = window.confideRoom;
  const me = room.me;
  const $ = function (id) { return document.getElementById(id); };
  const videos = $("call-videos");
  const localVideo = $("call-local");
  const notes = $("call-notes");

  // Thresholds (documented in docs/protocol.md): a sample every 2 s.
  const SAMPLE_MS = 2000;
  // A connection younger than this that has not connected yet is still negotiating.
  const NEGOTIATING_MS = 10000;
  // A connection that has not connected by then is replaced by a fresh one (at most RETRIES times).
  const RETRY_MS = 8000;
  const RETRIES = 2;
  const POOR = { loss: 0.08, rtt: 600, bitrate: 150000 };
  const FAIR = { loss: 0.03, rtt: 300 };
  const OFFER_AFTER = 3;     // poor samples in a row before offering voice only (6 s)
  const SWITCH_AFTER = 5;    // ... before switching to voice only (10 s)
  const RECOVER_AFTER = 10;  // good samples in a row before video comes back (20 s)
  // No media by then: fall back to the live chat (CALL_CONNECT_SECONDS on the server).
  const CONNECT_MS = Number(area.dataset.connectSeconds || 25) * 1000;

  const call = {
    mode: null, state: null, session: null, stream: null, ice: null, policy: "all",
    peers: new Map(), muted: false, cameraOff: false, voiceOnly: false, autoVoice: false,
    screen: null, poor: 0, good: 0, timer: null, joined: false, iceFetches: 0, lose: {},
  };

  function note(text) { notes.textContent = text; }
  function isCall(mode) { return mode === "voice" || mode === "video"; }

  function showFor(mode) {
    area.hidden = !isCall(mode);
    area.dataset.mode = mode || "";
    area.querySelectorAll(".video-only").forEach(function (el) { el.hidden = mode !== "video"; });
    $("call-title").textContent = mode === "video" ? "Video call" : "Voice call";
  }

  async function listDevices() {
    const devices = await navigator.mediaDevices.enumerateDevices();
    [["call-mic", "audioinput"], ["call-cam", "videoinput"]].forEach(function (pair) {
      const select = $(pair[0]);
      const chosen = select.value;
      select.textContent = "";
      devices.filter(function (d) { return d.kind === pair[1]; }).forEach(function (d, i) {
        const option = document.createElement("option");
        option.value = d.deviceId;
        option.textContent = d.label || (pair[1] === "audioinput" ? "Microphone " : "Camera ") + (i + 1);
        select.appendChild(option);
      });
      if (chosen) select.value = chosen;
    });
  }

  async function openMedia() {
    const wantVideo = call.mode === "video";
    const constraints = {
      audio: $("call-mic").value ? { deviceId: { exact: $("call-mic").value } } : true,
      video: wantVideo ? ($("call-cam").value ? { deviceId: { exact: $("call-cam").value } } : true) : false,
    };
    const stream = await navigator.mediaDevices.getUserMedia(constraints);
    if (call.stream) call.stream.getTracks().forEach(function (t) { t.stop(); });
    call.stream = stream;
    localVideo.srcObject = stream;
    stream.getAudioTracks().forEach(function (t) { t.enabled = !call.muted; });
    await listDevices();
    return stream;
  }

  $("call-preview").addEventListener("click", async function () {
    try { await openMedia(); note("This is what the others will see and hear when you join."); }
    catch (err) { note("The camera or microphone is not available: " + err.name + "."); }
  });
  ["call-mic", "call-cam"].forEach(function (id) {
    $(id).addEventListener("change", async function () {
      if (!call.stream) return;
      await openMedia();
      call.peers.forEach(function (peer) { replaceTracks(peer); });
    });
  });

  // --- peers -----------------------------------------------------------------------------
  function tile(user, name) {
    let fig = $("peer-" + user);
    if (!fig) {
      fig = document.createElement("figure");
      fig.className = "call-tile";
      fig.id = "peer-" + user;
      const video = document.createElement("video");
      video.autoplay = true;
      video.playsInline = true;
      const cap = document.createElement("figcaption");
      cap.textContent = name || "Participant";
      fig.append(video, cap);
      videos.appendChild(fig);
    }
    return fig;
  }

  // Each connection has a random id. Signals say which connection sent them ("pc") and which
  // one they answer ("for"), so a signal meant for a connection since replaced is left alone,
  // and an offer from a new connection replaces ours (docs/protocol.md, "Calls").
  function newId() {
    const bytes = new Uint8Array(9);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, function (b) { return b.toString(16).padStart(2, "0"); }).join("");
  }

  function signal(peer, body) {
    const kind = body.description ? body.description.type : "candidate";
    if (call.lose[kind] > 0) { call.lose[kind] -= 1; return; }  // a lossy network, in tests
    room.send(Object.assign({ type: "call.signal", to: peer.user, pc: peer.id, for: peer.remote }, body));
  }

  // `before`: the connection this one replaces, whose first attempt and retries carry over.
  function peerFor(user, name, before) {
    let peer = call.peers.get(user);
    if (peer) return peer;
    const pc = new RTCPeerConnection({ iceServers: call.ice || [], iceTransportPolicy: call.policy });
    peer = { user: user, name: name, pc: pc, polite: me > user, making: false, ignore: false,
             id: newId(), remote: null, heard: false,
             connected: false, restarts: 0, last: null, born: Date.now(),
             first: before ? before.first : Date.now(), retries: before ? before.retries : 0,
             gaveUp: before ? before.gaveUp : false };
    call.peers.set(user, peer);
    const fig = tile(user, name);
    pc.ontrack = function (event) {
      const video = fig.querySelector("video");
      if (video.srcObject !== event.streams[0]) video.srcObject = event.streams[0];
    };
    pc.onicecandidate = function (event) {
      signal(peer, { candidate: event.candidate ? event.candidate.toJSON() : null });
    };
    pc.onnegotiationneeded = async function () {
      try {
        peer.making = true;
        await pc.setLocalDescription();
        signal(peer, { description: pc.localDescription.toJSON() });
      } catch (err) { /* a glare: the polite side rolls back */ }
      finally { peer.making = false; }
    };
    pc.oniceconnectionstatechange = function () {
      const state = pc.iceConnectionState;
      if (state === "connected" || state === "completed") {
        peer.connected = true;
        fig.classList.remove("reconnecting");
      } else if (state === "failed") {
        restart(peer);
      } else if (state === "disconnected") {
        fig.classList.add("reconnecting");
        setTimeout(function () { if (pc.iceConnectionState === "disconnected") restart(peer); }, 4000);
      }
    };
    peer.senders = {};
    call.stream.getTracks().forEach(function (t) { peer.senders[t.kind] = pc.addTrack(t, call.stream); });
    replaceTracks(peer);
    return peer;
  }

  // A network change (Wi-Fi to mobile): new candidates, same call.
  // A fresh TURN credential first (the old one may have expired in a long session); the
  // restart itself happens when the new ICE servers arrive.
  function restart(peer) {
    peer.restarts += 1;
    peer.restarting = true;
    note("The connection to " + peer.name + " dropped: reconnecting…");
    room.send({ type: "call.ice" });
  }

  // Voice only and screen sharing change what the video sender carries, without renegotiating.
  function replaceTracks(peer) {
    const audio = call.stream.getAudioTracks()[0] || null;
    const camera = call.stream.getVideoTracks()[0] || null;
    if (peer.senders.audio) peer.senders.audio.replaceTrack(audio);
    if (peer.senders.video) peer.senders.video.replaceTrack(call.voiceOnly ? null : (call.screen || camera));
  }

  // Start a fresh connection to `user` in place of the current one, if any.
  function replacePeer(user, name) {
    const before = call.peers.get(user);
    dropPeer(user);
    return peerFor(user, name, before);
  }

  async function onSignal(data) {
    let peer = call.peers.get(data.from);
    const offer = data.description && data.description.type === "offer";
    if (peer && offer && data.pc && peer.remote && data.pc !== peer.remote) {
      peer = replacePeer(data.from, nameOf(data.from));  // they started afresh: so do we
    }
    if (peer && data.for && data.for !== peer.id) return;  // meant for a connection we replaced
    if (peer && data.pc && peer.remote && data.pc !== peer.remote) return;  // from one they replaced
    if (!peer) peer = peerFor(data.from, nameOf(data.from));
    if (data.pc) peer.remote = data.pc;
    peer.heard = true;
    const pc = peer.pc;
    try {
      if (data.description) {
        const collision = data.description.type === "offer" &&
          (peer.making || pc.signalingState !== "stable");
        peer.ignore = !peer.polite && collision;
        if (peer.ignore) return;
        await pc.setRemoteDescription(data.description);
        if (data.description.type === "offer") {
          await pc.setLocalDescription();
          signal(peer, { description: pc.localDescription.toJSON() });
        }
      } else if ("candidate" in data) {
        try { await pc.addIceCandidate(data.candidate || undefined); }
        catch (err) { if (!peer.ignore) throw err; }
      }
    } catch (err) {
      note("A call message could not be used (" + err.name + ").");
    }
  }

  const names = new Map();
  function nameOf(user) { return names.get(user) || "Participant"; }

  function dropPeer(user) {
    const peer = call.peers.get(user);
    if (peer) peer.pc.close();
    call.peers.delete(user);
    const fig = $("peer-" + user);
    if (fig) fig.remove();
  }

  // --- joining and leaving ---------------------------------------------------------------
  async function enter() {
    if (call.joined) return;
    call.joined = true;
    try {
      if (!call.stream) await openMedia();
    } catch (err) {
      note("The camera or microphone is not available (" + err.name + "): carry on in the live chat below.");
      room.send({ type: "call.media", audio: false, video: false, voice_only: false, screen: false, reason: "no_media" });
      return;
    }
    note("");
    $("call-setup").hidden = true;
    $("call-controls").hidden = false;
    $("call-quality").hidden = false;
    room.send({ type: "call.ice" });
  }

  function leave() {
    call.joined = false;
    call.ice = null;
    call.peers.forEach(function (_, user) { dropPeer(user); });
    if (call.stream) call.stream.getTracks().forEach(function (t) { t.stop(); });
    if (call.screen) call.screen.stop();
    call.stream = null;
    call.screen = null;
    localVideo.srcObject = null;
    clearInterval(call.timer);
    $("call-setup").hidden = false;
    $("call-controls").hidden = true;
    $("call-quality").hidden = true;
  }

  function onLive(session) {
    call.session = session;
    const mode = session ? session.mode : null;
    const changed = call.mode !== null && call.mode !== mode;
    call.mode = mode;
    showFor(mode);
    if (!session || !isCall(mode)) { leave(); return; }
    if (changed && call.joined) leave();  // voice <-> video: start again with the right media
    session.participants.forEach(function (p) { names.set(p.id, p.name); });
    const mine = session.participants.find(function (p) { return p.id === me; });
    call.state = mine ? mine.state : null;
    if (call.state === "admitted") enter(); else if (call.joined) leave();
    session.participants.forEach(function (p) {
      if (p.id !== me && p.state !== "admitted") dropPeer(p.id);
    });
  }

  document.addEventListener("confide:stream", function (event) {
    const data = event.detail;
    if (data.type === "hello" || data.type === "live") {
      onLive(data.type === "hello" ? data.live : data.session);
    } else if (data.type === "call.ice") {
      const refresh = call.ice !== null;
      call.iceFetches += 1;
      call.ice = data.ice_servers;
      call.policy = data.policy;
      if (refresh) {
        call.peers.forEach(function (peer) {
          peer.pc.setConfiguration({ iceServers: call.ice, iceTransportPolicy: call.policy });
          if (peer.restarting) { peer.restarting = false; peer.pc.restartIce(); }
        });
        return;
      }
      room.send({ type: "call.ready" });
      clearInterval(call.timer);
      call.timer = setInterval(sample, SAMPLE_MS);
    } else if (data.type === "call.ready" && call.joined && call.ice) {
      names.set(data.user, data.name);
      // They (re)joined: start afresh, unless a connection to them is still being negotiated
      // and they have already answered or offered on it. When both sides join at once (a live
      // chat turned into a call), each one's "ready" can reach the other after an offer is
      // already under way; that exchange is kept.
      const current = call.peers.get(data.user);
      if (current && !current.connected && current.heard &&
          Date.now() - current.born < NEGOTIATING_MS) return;
      dropPeer(data.user);
      peerFor(data.user, data.name);
    } else if (data.type === "call.signal" && call.joined && call.ice) {
      onSignal(data);
    } else if (data.type === "call.media") {
      const fig = $("peer-" + data.user);
      if (fig) fig.classList.toggle("muted", !data.audio);
      if (data.reason === "poor_connection") note(data.name + "'s connection is poor: they switched to voice only.");
      else if (data.reason === "recovered") note(data.name + "'s video is back.");
      else if (data.reason === "no_media") note("The call could not reach " + data.name + ": carry on in the live chat below.");
      else if (!data.audio) note(data.name + " muted their microphone.");
    } else if (data.type === "error" && data.code === "not_in_call") {
      note("You are not in this call.");
    }
  });

  function announce(reason) {
    room.send({ type: "call.media", audio: !call.muted, video: call.mode === "video" && !call.cameraOff && !call.voiceOnly,
                voice_only: call.voiceOnly, screen: !!call.screen, reason: reason || "chosen" });
  }

  $("call-mute").addEventListener("click", function () {
    call.muted = !call.muted;
    call.stream.getAudioTracks().forEach(function (t) { t.enabled = !call.muted; });
    this.setAttribute("aria-pressed", String(call.muted));
    this.textContent = call.muted ? "Unmute" : "Mute";
    announce();
  });
  $("call-camera").addEventListener("click", function () {
    call.cameraOff = !call.cameraOff;
    call.stream.getVideoTracks().forEach(function (t) { t.enabled = !call.cameraOff; });
    this.setAttribute("aria-pressed", String(call.cameraOff));
    this.textContent = call.cameraOff ? "Turn camera on" : "Turn camera off";
    announce();
  });
  function setVoiceOnly(on, reason) {
    call.voiceOnly = on;
    call.autoVoice = on && reason === "poor_connection";
    $("call-voice").setAttribute("aria-pressed", String(on));
    $("call-voice").textContent = on ? "Video on" : "Voice only";
    $("call-offer").hidden = true;
    call.peers.forEach(replaceTracks);
    announce(reason);
  }
  $("call-voice").addEventListener("click", function () { setVoiceOnly(!call.voiceOnly, "chosen"); });
  $("call-offer-voice").addEventListener("click", function () { setVoiceOnly(true, "chosen"); });
  const share = $("call-share");
  if (share) share.addEventListener("click", async function () {
    if (call.screen) { call.screen.stop(); call.screen = null; }
    else {
      try {
        const display = await navigator.mediaDevices.getDisplayMedia({ video: true });
        call.screen = display.getVideoTracks()[0];
        call.screen.addEventListener("ended", function () { call.screen = null; call.peers.forEach(replaceTracks); });
      } catch (err) { note("Screen sharing was not started."); return; }
    }
    share.setAttribute("aria-pressed", String(!!call.screen));
    share.textContent = call.screen ? "Stop sharing" : "Share screen";
    call.peers.forEach(replaceTracks);
    announce();
  });

  // --- the connection panel --------------------------------------------------------------
  async function measure(peer) {
    const report = await peer.pc.getStats();
    const out = { user: peer.user, rtt: null, lost: 0, received: 0, framesDecoded: 0,
                  audioPackets: 0, audioEnergy: 0, jitter: null, bitrate: null, candidateType: null };
    let pairId = null;
    report.forEach(function (s) { if (s.type === "transport" && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId; });
    report.forEach(function (s) {
      if (s.type === "candidate-pair" && (s.id === pairId || (!pairId && s.nominated && s.state === "succeeded"))) {
        if (s.currentRoundTripTime !== undefined) out.rtt = s.currentRoundTripTime * 1000;
        if (s.availableOutgoingBitrate !== undefined) out.bitrate = s.availableOutgoingBitrate;
        const local = report.get(s.localCandidateId);
        if (local) out.candidateType = local.candidateType;
      } else if (s.type === "inbound-rtp") {
        out.lost += s.packetsLost || 0;
        out.received += s.packetsReceived || 0;
        if (s.kind === "video") out.framesDecoded += s.framesDecoded || 0;
        if (s.kind === "audio") {
          out.audioPackets += s.packetsReceived || 0;
          out.audioEnergy += s.totalAudioEnergy || 0;
          if (s.jitter !== undefined) out.jitter = s.jitter * 1000;
        }
      }
    });
    return out;
  }

  // A connection that has not connected RETRY_MS after it was made (an offer or answer lost on
  // the way, or both sides starting at once) is replaced by a fresh one; the other side
  // replaces theirs when the new offer arrives. The live-chat fallback still counts from the
  // first attempt.
  function retryStuck() {
    Array.from(call.peers.values()).forEach(function (peer) {
      if (peer.connected || peer.gaveUp || peer.retries >= RETRIES) return;
      if (Date.now() - peer.born < RETRY_MS) return;
      const fresh = replacePeer(peer.user, peer.name);
      fresh.retries += 1;
    });
  }

  async function sample() {
    if (!call.joined || call.peers.size === 0) return;
    let worst = "good";
    let delay = 0;
    retryStuck();
    for (const peer of call.peers.values()) {
      if (!peer.connected && !peer.gaveUp && Date.now() - peer.first > CONNECT_MS) {
        peer.gaveUp = true;
        note("The call could not connect to " + peer.name + " (the network may block calls). " +
             "Carry on in the live chat below; everything written there stays in the room.");
        room.send({ type: "call.media", audio: false, video: false, voice_only: false, screen: false, reason: "no_media" });
      }
      const now = await measure(peer);
      const prev = peer.last;
      peer.last = now;
      if (!prev || now.rtt === null) continue;
      const lost = now.lost - prev.lost;
      const got = now.received - prev.received;
      const loss = lost + got > 0 ? lost / (lost + got) : 0;
      const grade = loss >= POOR.loss || now.rtt >= POOR.rtt ||
        (call.mode === "video" && !call.voiceOnly && now.bitrate !== null && now.bitrate < POOR.bitrate) ? "poor"
        : loss >= FAIR.loss || now.rtt >= FAIR.rtt ? "fair" : "good";
      if (grade === "poor" || (grade === "fair" && worst === "good")) worst = grade;
      delay = Math.max(delay, now.rtt);
    }
    judge(worst, delay);
  }

  // The decision, from one graded sample: what the panel says, and voice only or not.
  function judge(worst, delay) {
    $("call-grade").textContent = worst;
    $("call-dot").className = "quality-dot " + worst;
    $("call-delay").textContent = Math.round(delay) + " ms";
    $("call-advice").textContent = delay >= 700
      ? "There is about a second of delay: pauses may be lag, not silence."
      : delay >= 400 ? "There is about half a second of delay: leave a little room before answering." : "";
    if (worst === "poor") { call.poor += 1; call.good = 0; } else if (worst === "good") { call.good += 1; call.poor = 0; } else { call.poor = 0; call.good = 0; }
    if (call.mode === "video" && !call.voiceOnly) {
      if (call.poor >= SWITCH_AFTER) { setVoiceOnly(true, "poor_connection"); note("The connection is poor: switched to voice only. Video comes back when it recovers."); }
      else if (call.poor >= OFFER_AFTER) $("call-offer").hidden = false;
    } else if (call.autoVoice && call.good >= RECOVER_AFTER) {
      setVoiceOnly(false, "recovered");
      note("The connection has recovered: video is back.");
    }
  }

  // For tests and the curious: what each connection is receiving (numbers only, no media).
  window.confideCall = {
    stats: async function () {
      const all = [];
      for (const peer of call.peers.values()) all.push(await measure(peer));
      return all;
    },
    // Feed one graded sample to the decision above, as the 2-second sampler does.
    judge: function (grade, delay) { judge(grade, delay || 0); },
    restart: function () { call.peers.forEach(restart); },
    // Lose the next `n` outgoing signals of a kind ("offer", "answer" or "candidate").
    lose: function (kind, n) { call.lose[kind] = n; },
    localVideoEnabled: function () {
      return call.stream !== null && call.stream.getVideoTracks().every(function (t) { return t.enabled; });
    },
    state: function () {
      const sending = Array.from(call.peers.values()).map(function (p) {
        return { user: p.user, audio: !!(p.senders.audio && p.senders.audio.track && p.senders.audio.track.enabled),
                 video: !!(p.senders.video && p.senders.video.track),
                 videoLabel: p.senders.video && p.senders.video.track ? p.senders.video.track.label : null };
      });
      return { joined: call.joined, muted: call.muted, voiceOnly: call.voiceOnly, policy: call.policy,
               iceFetches: call.iceFetches, sharing: call.screen !== null,
               restarts: Array.from(call.peers.values()).reduce(function (n, p) { return n + p.restarts; }, 0),
               peers: Array.from(call.peers.keys()), sending: sending,
               retries: Array.from(call.peers.values()).reduce(function (n, p) { return n + p.retries; }, 0),
               connections: Array.from(call.peers.values()).map(function (p) {
                 return { user: p.user, signaling: p.pc.signalingState, ice: p.pc.iceConnectionState,
                          connected: p.connected, heard: p.heard, ageMs: Date.now() - p.born };
               }) };
    },
  };
})();
