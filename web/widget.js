/*
 * FAQ chat widget for Rasa 3.6's socket.io channel (no framework, no CDN).
 *
 * Embed (see docs/widget.md):
 *   <link rel="stylesheet" href="/chat/widget.css">
 *   <script src="/chat/socket.io.min.js"></script>
 *   <script src="/chat/widget.js" data-socket-url="https://bot.clinic.example"></script>
 * or set window.FAQBOT_CONFIG = { socketUrl: ..., ... } before widget.js.
 *
 * - Session persistence: the session token the server issues and the
 *   transcript are kept in sessionStorage (default; storage: "local" keeps
 *   them across tabs and browser restarts), so the same conversation continues
 *   across reloads and pages of the site. The token is all the page knows: the
 *   server derives the conversation from it (channels/socketio.py), and a
 *   token it did not issue gets a new conversation. When the bot confirms
 *   "forget me" (a custom payload {forget_me: "requested"}), both are removed
 *   from storage and a new session is requested.
 * - Safety: bot text is never parsed as HTML. Text nodes are created with
 *   textContent; only http(s) links ([title](url) or bare) become <a>, and
 *   **bold** becomes <strong>.
 * - Accessibility: new messages are announced through an aria-live log; the
 *   input and every button are labelled; everything works from the keyboard
 *   (Escape closes); focus is always visible.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var data = (script && script.dataset) || {};
  var given = window.FAQBOT_CONFIG || {};
  var config = {
    socketUrl: given.socketUrl || data.socketUrl || "http://localhost:5005",
    socketPath: given.socketPath || data.socketPath || "/socket.io/",
    title: given.title || data.title || "Headache treatment questions",
    launcherText: given.launcherText || data.launcherText || "Chat with us",
    storage: given.storage || data.storage || "session",
    greeting: given.greeting || data.greeting || "/greet",
  };
  var PREFIX = "faqbot.";
  var TYPING_TIMEOUT_MS = 20000;
  var MAX_MESSAGE_LENGTH = 1000;
  var MAX_TRANSCRIPT = 200;

  // ------------------------------------------------------------ storage
  var store = (function () {
    try {
      var area = config.storage === "local" ? window.localStorage : window.sessionStorage;
      area.setItem(PREFIX + "probe", "1");
      area.removeItem(PREFIX + "probe");
      return area;
    } catch (error) {
      return null; // storage off: the conversation still works, without persistence
    }
  })();
  function load(key, fallback) {
    if (!store) return fallback;
    try {
      var value = store.getItem(PREFIX + key);
      return value === null ? fallback : JSON.parse(value);
    } catch (error) {
      return fallback;
    }
  }
  function save(key, value) {
    if (!store) return;
    try { store.setItem(PREFIX + key, JSON.stringify(value)); } catch (error) { /* full */ }
  }

  // ------------------------------------------------------------ safe rendering
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else if (key === "className") node.className = attrs[key];
      else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  }

  var INLINE = /\[([^\]\n]{1,300})\]\((https?:\/\/[^\s)]+)\)|(https?:\/\/[^\s<>"')]+[^\s<>"').,;:!?])|\*\*([^*\n]{1,300})\*\*/g;

  function link(url, title) {
    var a = el("a", { href: url, target: "_blank", rel: "noopener noreferrer nofollow" });
    a.appendChild(document.createTextNode(title));
    a.appendChild(el("span", { className: "faqbot-visually-hidden", text: " (opens in a new tab)" }));
    return a;
  }

  function renderLine(container, line) {
    var last = 0;
    var match;
    INLINE.lastIndex = 0;
    while ((match = INLINE.exec(line)) !== null) {
      if (match.index > last) container.appendChild(document.createTextNode(line.slice(last, match.index)));
      if (match[4]) container.appendChild(el("strong", { text: match[4] }));
      else container.appendChild(link(match[2] || match[3], match[1] || match[3]));
      last = match.index + match[0].length;
    }
    if (last < line.length) container.appendChild(document.createTextNode(line.slice(last)));
  }

  function renderText(container, text) {
    String(text).split("\n").forEach(function (line, index) {
      if (index > 0) container.appendChild(document.createElement("br"));
      renderLine(container, line);
    });
  }

  // A short-first answer (channels/socketio.py sends {text: short, answer: {...}}): the short
  // answer, then "More" (paragraphs and real lists) and "Sources" (titled links) as native
  // <details>/<summary> disclosures: keyboard (Tab, Enter/Space) and screen readers work as is.
  function disclosure(label, className, children) {
    var summary = el("summary", { className: "faqbot-summary", text: label });
    return el("details", { className: "faqbot-details " + className }, [summary].concat(children));
  }

  function renderAnswer(container, answer) {
    var blocks = Array.isArray(answer.detail) ? answer.detail : [];
    var detail = [];
    blocks.forEach(function (block) {
      if (!block) return;
      if (block.type === "list" && Array.isArray(block.items)) {
        var list = el("ul", { className: "faqbot-list" });
        block.items.forEach(function (item) {
          var li = el("li");
          renderLine(li, String(item));
          list.appendChild(li);
        });
        detail.push(list);
      } else if (block.text) {
        var paragraph = el("p", { className: "faqbot-para" });
        renderLine(paragraph, String(block.text));
        detail.push(paragraph);
      }
    });
    if (detail.length) container.appendChild(disclosure("More", "faqbot-more", detail));
    var sources = Array.isArray(answer.sources) ? answer.sources : [];
    var items = el("ul", { className: "faqbot-list faqbot-sources-list" });
    sources.forEach(function (source) {
      if (!source || !source.title) return;
      var title = String(source.title);
      var li = el("li");
      var url = String(source.url || "");
      if (/^https?:\/\//.test(url)) {
        var a = link(url, title);
        a.setAttribute("title", title);
        li.appendChild(a);
      } else {
        li.appendChild(document.createTextNode(title));
      }
      if (source.date) li.appendChild(el("span", { className: "faqbot-date", text: " (" + String(source.date) + ")" }));
      items.appendChild(li);
    });
    var sourceChildren = items.childNodes.length ? [items] : [];
    if (answer.note) sourceChildren.push(el("p", { className: "faqbot-para faqbot-note", text: String(answer.note) }));
    if (sourceChildren.length) container.appendChild(disclosure("Sources", "faqbot-sources", sourceChildren));
  }

  // ------------------------------------------------------------ DOM
  var launcher = el("button", {
    type: "button", className: "faqbot-launcher", "aria-expanded": "false",
    "aria-controls": "faqbot-panel", text: config.launcherText,
  });
  var title = el("h2", { className: "faqbot-title", id: "faqbot-title", text: config.title });
  var restart = el("button", { type: "button", className: "faqbot-restart", text: "Restart" });
  restart.setAttribute("aria-label", "Restart the conversation");
  var close = el("button", { type: "button", className: "faqbot-close", "aria-label": "Close chat" }, [
    el("span", { "aria-hidden": "true", text: "×" }),
  ]);
  var header = el("div", { className: "faqbot-header" }, [title, restart, close]);
  var status = el("p", { className: "faqbot-status", role: "status", id: "faqbot-status" });
  var log = el("div", {
    className: "faqbot-log", id: "faqbot-log", role: "log", "aria-live": "polite",
    "aria-relevant": "additions", "aria-label": "Conversation", tabindex: "0",
  });
  var typing = el("p", { className: "faqbot-typing", hidden: "hidden", "aria-hidden": "true", text: "The assistant is typing…" });
  var inputLabel = el("label", { for: "faqbot-input", className: "faqbot-visually-hidden", text: "Type your question" });
  var input = el("input", {
    type: "text", id: "faqbot-input", className: "faqbot-input", autocomplete: "off",
    maxlength: String(MAX_MESSAGE_LENGTH), placeholder: "Type your question", "aria-describedby": "faqbot-status",
  });
  var send = el("button", { type: "submit", className: "faqbot-send", text: "Send" });
  var form = el("form", { className: "faqbot-form", "aria-label": "Send a message" }, [inputLabel, input, send]);
  var notice = el("p", {
    className: "faqbot-notice",
    text: "General information, not medical advice. In an emergency call 911.",
  });
  var panel = el("section", {
    className: "faqbot-panel", id: "faqbot-panel", role: "dialog", "aria-labelledby": "faqbot-title", hidden: "hidden",
  }, [header, status, log, typing, form, notice]);
  document.body.appendChild(launcher);
  document.body.appendChild(panel);

  // ------------------------------------------------------------ transcript
  var transcript = load("transcript", []);

  function disableChoices(group, chosenIndex) {
    Array.prototype.forEach.call(group.querySelectorAll("button"), function (button, index) {
      button.disabled = true;
      if (index === chosenIndex) button.setAttribute("aria-pressed", "true");
    });
  }

  function addMessage(message, persist) {
    var item = el("div", { className: "faqbot-msg faqbot-" + message.from });
    item.appendChild(el("span", {
      className: "faqbot-visually-hidden", text: message.from === "user" ? "You said: " : "Assistant: ",
    }));
    var body = el("div", { className: "faqbot-text" });
    renderText(body, message.text || "");
    item.appendChild(body);
    if (message.from === "bot" && message.answer && typeof message.answer === "object") {
      renderAnswer(item, message.answer);
    }
    if (message.from === "bot" && message.buttons && message.buttons.length) {
      var group = el("div", { className: "faqbot-buttons", role: "group", "aria-label": "Suggested replies" });
      message.buttons.forEach(function (button, index) {
        var choice = el("button", { type: "button", className: "faqbot-choice", text: String(button.title || "") });
        choice.addEventListener("click", function () {
          if (choice.disabled) return;
          if (!sendMessage(String(button.payload || ""), String(button.title || ""))) return;
          disableChoices(group, index);
          message.chosen = index;
          save("transcript", transcript);
          input.focus();
        });
        group.appendChild(choice);
      });
      if (typeof message.chosen === "number") disableChoices(group, message.chosen);
      item.appendChild(group);
    }
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
    if (persist) {
      transcript.push(message);
      if (transcript.length > MAX_TRANSCRIPT) transcript = transcript.slice(-MAX_TRANSCRIPT);
      save("transcript", transcript);
    }
  }
  transcript.forEach(function (message) { addMessage(message, false); });

  // ------------------------------------------------------------ socket.io
  var sessionToken = load("session_token", null);
  // Before tokens the page kept a bare session id, which the server no longer accepts.
  var staleSession = load("session_id", null);
  if (store) { try { store.removeItem(PREFIX + "session_id"); } catch (error) { /* ignore */ } }
  var pending = []; // messages typed before the session was confirmed: sent, not lost
  var typingTimer = null;
  var socket = null;

  function setTyping(on) {
    typing.hidden = !on;
    clearTimeout(typingTimer);
    if (on) typingTimer = setTimeout(function () { setTyping(false); }, TYPING_TIMEOUT_MS);
  }

  function connect() {
    if (socket) {
      if (!socket.connected) socket.connect();
      return;
    }
    if (typeof window.io !== "function") {
      status.textContent = "The chat is unavailable right now. Please call the clinic.";
      return;
    }
    socket = window.io(config.socketUrl, { path: config.socketPath, transports: ["websocket", "polling"] });
    socket.on("connect", function () {
      status.textContent = "";
      socket.emit("session_request", { session_id: sessionToken });
    });
    socket.on("session_confirm", function (confirmed) {
      var token = confirmed && typeof confirmed === "object" ? confirmed.session_id : confirmed;
      if (typeof token !== "string" || !token) return;
      var isNew = token !== sessionToken;
      if (isNew && (sessionToken || staleSession) && transcript.length > 0) {
        // The server did not resume the stored conversation (e.g. its secret changed).
        status.textContent = "The earlier conversation could not be resumed: this is a new one.";
      }
      sessionToken = token;
      staleSession = null;
      save("session_token", sessionToken);
      if (isNew && transcript.length === 0 && config.greeting) emit(config.greeting);
      var queued = pending;
      pending = [];
      queued.forEach(emit);
    });
    socket.on("connect_error", function () { status.textContent = "Connecting to the assistant…"; });
    socket.on("disconnect", function () { status.textContent = "Connection lost. Reconnecting…"; });
    socket.on("bot_uttered", function (message) {
      setTyping(false);
      message = message || {};
      if (message.custom && message.custom.forget_me === "requested") {
        forgetStoredConversation();
        return;
      }
      var buttons = message.quick_replies || message.buttons || [];
      if (!message.text && !buttons.length) return;
      var shown = { from: "bot", text: String(message.text || ""), buttons: buttons };
      if (message.answer && typeof message.answer === "object") shown.answer = message.answer;
      addMessage(shown, true);
    });
  }

  // The bot confirmed "forget me": nothing of this conversation stays in the browser
  // (what is on screen stays until the page is left); the next message starts a new one.
  function forgetStoredConversation() {
    transcript = [];
    sessionToken = null;
    pending = [];
    if (store) {
      ["transcript", "session_token"].forEach(function (key) {
        try { store.removeItem(PREFIX + key); } catch (error) { /* storage off */ }
      });
    }
    if (socket && socket.connected) socket.emit("session_request", { session_id: null });
  }

  function emit(text) {
    if (!sessionToken || !socket || !socket.connected) {
      pending.push(text);
      status.textContent = "Connecting… your message will be sent as soon as the assistant is reachable.";
      connect();
      return;
    }
    socket.emit("user_uttered", { message: text, session_id: sessionToken });
    setTyping(true);
  }

  // Shows the user's message (or the chosen button's title) and sends it.
  function sendMessage(payload, shownText) {
    var text = String(payload || "").trim();
    if (!text) return false;
    if (text.length > MAX_MESSAGE_LENGTH) {
      status.textContent = "That message is too long: please keep it under " + MAX_MESSAGE_LENGTH + " characters.";
      return false;
    }
    addMessage({ from: "user", text: shownText || text }, true);
    emit(text);
    return true;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (sendMessage(input.value, input.value)) input.value = "";
    input.focus();
  });

  // ------------------------------------------------------------ open / close / restart
  function setOpen(open, moveFocus) {
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    launcher.hidden = open && window.matchMedia && window.matchMedia("(max-width: 480px)").matches;
    save("open", open);
    if (open) {
      connect();
      if (moveFocus !== false) input.focus();
    } else if (moveFocus !== false) {
      launcher.focus();
    }
  }
  launcher.addEventListener("click", function () { setOpen(panel.hidden); });
  close.addEventListener("click", function () { setOpen(false); });
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      event.preventDefault();
      setOpen(false);
    }
  });
  restart.addEventListener("click", function () {
    transcript = [];
    save("transcript", transcript);
    while (log.firstChild) log.removeChild(log.firstChild);
    setTyping(false);
    sessionToken = null;
    pending = [];
    save("session_token", null);
    status.textContent = "Started a new conversation.";
    if (socket && socket.connected) socket.emit("session_request", { session_id: null });
    else connect();
    input.focus();
  });

  if (load("open", false)) setOpen(true, false);
})();
