/* Lokus outbox: a field form is kept on the phone (IndexedDB) before it is sent, so that a
   dropped signal loses nothing. Items are sent in the order they were made, by the page or,
   when no page is open, by the service worker (static/js/sw.js, Background Sync).

   The request is the form's own POST (same URL and fields, multipart) plus client_uuid
   (made on the phone, so the server can tell a repeat from a new item), captured_at (when
   the officer did it) and the header X-Lokus-Outbox: 1, which asks for a JSON answer:
   {"ok": true|false, "status": "created"|"replayed"|"refused"|"forbidden", "message", "errors"}.
   A server that still answers with redirects and HTML pages is understood too: a redirect
   back to the assignment page is a success (unless it carries an error message), any other
   redirect means signing in again, a page with errors is a refusal.

   An item belongs to the officer who made it: it carries their user id, only their items
   are shown, and it is sent only when the session is theirs (asked of the server first:
   another officer may have signed in on the phone since).

   The user-visible text comes from data-t-* attributes of templates/lokus/_outbox.html
   (Django's catalogue). Loaded as a plain script by the pages and by the worker. */
(function (root) {
  "use strict";

  var WAITING = "waiting";
  var SENDING = "sending";
  var SENT = "sent";
  var FAILED = "failed";
  var settings = { session: "", login: "" };
  var outcomes = new Map(); // the last answer for each item, while this page or worker runs
  var database = null;

  var api = {
    WAITING: WAITING,
    SENDING: SENDING,
    SENT: SENT,
    FAILED: FAILED,
    outcomes: outcomes,
    onChange: null,
    configure: function (values) {
      Object.keys(values).forEach(function (key) {
        if (values[key]) {
          settings[key] = values[key];
        }
      });
    },
  };

  // Storage --------------------------------------------------------------------------------------

  function db() {
    if (!database) {
      database = root.idb.openDB("lokus-outbox", 1, {
        upgrade: function (store) {
          store.createObjectStore("items", { keyPath: "id" }).createIndex("user", "userId");
          store.createObjectStore("meta");
        },
      });
      database.catch(function () {
        database = null;
      });
    }
    return database;
  }

  api.getMeta = async function (key) {
    return (await db()).get("meta", key);
  };
  api.setMeta = async function (key, value) {
    var store = await db();
    return value === null || value === undefined ? store.delete("meta", key) : store.put("meta", value, key);
  };
  api.itemsOf = async function (user) {
    var items = await (await db()).getAllFromIndex("items", "user", String(user));
    return items.sort(function (a, b) {
      return a.created - b.created;
    });
  };
  api.getItem = async function (id) {
    return (await db()).get("items", id);
  };
  api.saveItem = async function (item) {
    return (await db()).put("items", item);
  };
  api.removeItem = async function (id) {
    return (await db()).delete("items", id);
  };

  function changed() {
    if (api.onChange) {
      api.onChange();
    }
  }

  // Reading the server's answer ----------------------------------------------------------------

  var ENTITIES = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: " " };

  function textOf(html) {
    return html
      .replace(/<[^>]*>/g, " ")
      .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, function (all, name) {
        if (name[0] === "#") {
          return String.fromCharCode(name[1] === "x" || name[1] === "X" ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10));
        }
        return ENTITIES[name.toLowerCase()] || all;
      })
      .replace(/\s+/g, " ")
      .trim();
  }

  // Django's messages as base.html and _form_errors.html show them: class="msg msg-<level>".
  function messagesIn(html) {
    var found = [];
    var pattern = /<(li|div) class="msg msg-([a-z]+)[^"]*"[^>]*>([\s\S]*?)<\/\1>/g;
    var match;
    while ((match = pattern.exec(html))) {
      found.push({ level: match[2], text: textOf(match[3]) });
    }
    return found;
  }

  function joined(messages) {
    return messages
      .map(function (m) {
        return m.text;
      })
      .filter(function (text, i, all) {
        return text && all.indexOf(text) === i;
      })
      .join(" ");
  }

  async function interpret(response, item) {
    if (response.status >= 500) {
      return { state: WAITING, code: "server", retry: true };
    }
    var type = response.headers.get("Content-Type") || "";
    if (type.indexOf("application/json") !== -1) {
      var data = {};
      try {
        data = await response.json();
      } catch (error) {
        data = {};
      }
      if (data.ok) {
        return { state: SENT, message: data.message || "", level: "success" };
      }
      return { state: FAILED, code: data.status || "refused", message: data.message || "", errors: data.errors || {}, status: response.status };
    }
    // A server that does not speak the protocol yet: today's redirects and pages.
    var html = await response.text();
    var path = new URL(response.url).pathname;
    if (response.status === 403) {
      // Django's CSRF refusal: the session changed (signed out, or signed in again).
      return { state: WAITING, code: "login", retry: true };
    }
    if (response.redirected && path !== item.page) {
      return { state: WAITING, code: "login", retry: true }; // the sign-in or sign-in code page
    }
    var messages = messagesIn(html);
    if (response.ok && response.redirected) {
      var errors = messages.filter(function (m) {
        return m.level === "error";
      });
      if (errors.length) {
        return { state: FAILED, code: "refused", message: joined(errors), status: response.status };
      }
      return { state: SENT, message: joined(messages), level: messages.length ? messages[0].level : "success" };
    }
    var reasons = joined(
      messages.filter(function (m) {
        return m.level === "error";
      })
    );
    return { state: FAILED, code: "refused", message: reasons, html: html, status: response.status };
  }

  // Sending --------------------------------------------------------------------------------------

  async function sessionState() {
    var response = await fetch(settings.session, {
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "application/json" },
    });
    if (response.status >= 500) {
      return { offline: true };
    }
    if (!response.ok || (response.headers.get("Content-Type") || "").indexOf("application/json") === -1) {
      return { user: null };
    }
    var data = await response.json();
    return { user: data.user === null || data.user === undefined ? null : String(data.user), csrf: data.csrf };
  }

  async function send(item, csrf) {
    item.state = SENDING;
    item.attempts = (item.attempts || 0) + 1;
    await api.saveItem(item);
    changed();
    var body = new FormData();
    var bytes = 0;
    item.fields.forEach(function (field) {
      if (field.file) {
        body.append(field.name, field.file, field.filename || "berkas");
        bytes += field.file.size;
      } else {
        body.append(field.name, field.value);
      }
    });
    body.append("csrfmiddlewaretoken", csrf);
    body.append("client_uuid", item.id);
    body.append("captured_at", item.capturedAt);
    // Give up on a stalled upload, allowing for at least 10 kB/s.
    var controller = new AbortController();
    var timer = setTimeout(function () {
      controller.abort();
    }, 30000 + bytes / 10);
    var outcome;
    try {
      var response = await fetch(item.url, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrf, "X-Lokus-Outbox": "1", Accept: "application/json" },
        signal: controller.signal,
      });
      outcome = await interpret(response, item);
    } catch (error) {
      outcome = { state: WAITING, code: "offline", retry: true };
    } finally {
      clearTimeout(timer);
    }
    item.state = outcome.state;
    item.code = outcome.code || "";
    item.message = outcome.message || "";
    if (item.state === SENT) {
      item.fields = []; // the server has it now; the phone keeps only the line in the list
      item.sentAt = new Date().toISOString();
    }
    await api.saveItem(item);
    outcomes.set(item.id, outcome);
    changed();
    return outcome;
  }

  /* Send the waiting items of the signed-in user, oldest first (a "Mulai" must reach the
     server before the notes made after it). Stops at the first item that cannot go now.
     Returns "done", "offline", "server" or "login". One sender at a time, page or worker. */
  api.flush = function () {
    var run = async function () {
      var session;
      try {
        session = await sessionState();
      } catch (error) {
        return "offline";
      }
      if (session.offline) {
        return "offline";
      }
      if (!session.user) {
        return "login";
      }
      var items = await api.itemsOf(session.user);
      for (var i = 0; i < items.length; i++) {
        // "sending" here is a send cut short (a closed page): the lock says nobody else sends.
        if (items[i].state === WAITING || items[i].state === SENDING) {
          var outcome = await send(items[i], session.csrf);
          if (outcome.retry) {
            return outcome.code;
          }
        }
      }
      return "done";
    };
    var locks = root.navigator && root.navigator.locks;
    return locks ? locks.request("lokus-outbox", run) : run();
  };

  root.LokusOutbox = api;

  if (typeof document === "undefined") {
    return; // in the service worker: the rest is the page's
  }

  // The page -------------------------------------------------------------------------------------

  var doc = document;
  var PHOTO_MAX = 1600; // px, longest side
  var PHOTO_QUALITY = 0.8;
  var GEO_WAIT_MS = 6000;
  var SENT_KEPT_MS = 24 * 3600 * 1000;
  var FLASH = "lokus-outbox-flash";
  var ONCE = ["confirm", "check_in", "report"]; // an action taken once: no second tap while it waits
  var WITH_POSITION = ["check_in", "escalate"];

  function meta(name) {
    var element = doc.querySelector('meta[name="' + name + '"]');
    return element ? element.getAttribute("content") : "";
  }

  var user = meta("lokus-user");
  var cachedAt = meta("lokus-cached-at");
  var loadedAt = new Date().toISOString();
  var panel = doc.querySelector("[data-outbox-panel]");
  var T = panel ? panel.dataset : {};
  var lastResult = "";

  function make(tag, className, text) {
    var element = doc.createElement(tag);
    if (className) {
      element.className = className;
    }
    if (text) {
      element.textContent = text;
    }
    return element;
  }

  function say(template, values) {
    return (template || "").replace(/\{(\w+)\}/g, function (all, key) {
      return key in values ? values[key] : all;
    });
  }

  function when(iso) {
    try {
      return new Intl.DateTimeFormat(doc.documentElement.lang === "en" ? "en-GB" : "id-ID", {
        timeZone: "Asia/Jakarta",
        day: "numeric",
        month: "short",
        hour: "2-digit",
        minute: "2-digit",
      }).format(new Date(iso));
    } catch (error) {
      return iso;
    }
  }

  function uuid() {
    if (root.crypto && root.crypto.randomUUID) {
      return root.crypto.randomUUID();
    }
    var b = root.crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) {
      return (x + 0x100).toString(16).slice(1);
    }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  // Offline banner: "Luring – data per 14.05 WIB".
  function showBanner() {
    var banner = doc.querySelector("[data-outbox-banner]");
    if (!banner) {
      return;
    }
    var offline = !root.navigator.onLine;
    if (!offline && !cachedAt) {
      banner.hidden = true;
      return;
    }
    banner.textContent = say(offline ? T.tOffline : T.tStale, { time: when(cachedAt || loadedAt) });
    banner.hidden = false;
  }

  // A success message the server gave while the page sent in the background, shown on the
  // page that follows as Django would have shown it.
  function showFlash() {
    var saved;
    try {
      saved = JSON.parse(root.sessionStorage.getItem(FLASH) || "null");
      root.sessionStorage.removeItem(FLASH);
    } catch (error) {
      saved = null;
    }
    var main = doc.querySelector("main");
    if (!saved || !saved.text || !main) {
      return;
    }
    var list = main.querySelector(".messages");
    if (!list) {
      list = make("ul", "messages");
      main.insertBefore(list, main.firstChild);
    }
    var line = make("li", "msg msg-" + (/^[a-z]+$/.test(saved.level) ? saved.level : "success"), saved.text);
    line.setAttribute("role", "status");
    list.appendChild(line);
  }

  // The queue in the header: badge, list, "Kirim sekarang", "Buang". ----------------------------

  var STATE_TEXT = { waiting: "tWaiting", sending: "tSending", sent: "tSent", failed: "tFailed" };
  var STATE_BADGE = { waiting: "badge-warn", sending: "badge-warn", sent: "badge-ok", failed: "badge-danger" };
  var CODE_TEXT = { offline: "tNoSignal", server: "tServerBusy", login: "tSignIn" };

  function reasonOf(item) {
    if (item.state === FAILED) {
      return item.message || T.tRefused;
    }
    if (item.state === WAITING && CODE_TEXT[item.code]) {
      return T[CODE_TEXT[item.code]];
    }
    return item.message || "";
  }

  function sizeOf(item) {
    var files = (item.fields || []).filter(function (f) {
      return f.file;
    });
    return files
      .map(function (f) {
        return f.filename + " (" + Math.max(1, Math.round(f.file.size / 1024)) + " KB)";
      })
      .join(", ");
  }

  function row(item) {
    var line = make("li", "outbox-item");
    line.dataset.state = item.state;
    var title = make("div", "outbox-title");
    title.appendChild(make("strong", "", item.label));
    if (item.lokusTitle) {
      title.appendChild(doc.createTextNode(" · " + item.lokusTitle));
    }
    line.appendChild(title);
    var detail = [item.summary, sizeOf(item)].filter(Boolean).join(" · ");
    if (detail) {
      line.appendChild(make("div", "muted outbox-detail", detail));
    }
    var status = make("div", "outbox-meta");
    status.appendChild(make("span", "badge " + STATE_BADGE[item.state], T[STATE_TEXT[item.state]]));
    status.appendChild(make("time", "", " " + say(T.tCaptured, { time: when(item.capturedAt) })));
    line.appendChild(status);
    var reason = reasonOf(item);
    if (reason) {
      line.appendChild(make("p", item.state === FAILED ? "error" : "muted", reason));
    }
    if (item.state === FAILED) {
      var discard = make("button", "btn outbox-discard", T.tDiscard);
      discard.type = "button";
      discard.addEventListener("click", function () {
        if (root.confirm(T.tDiscardConfirm)) {
          api.removeItem(item.id).then(render);
        }
      });
      line.appendChild(discard);
    }
    return line;
  }

  async function render() {
    if (!panel || !user) {
      return;
    }
    var items = await api.itemsOf(user);
    var waiting = items.filter(function (i) {
      return i.state === WAITING || i.state === SENDING;
    }).length;
    var failed = items.filter(function (i) {
      return i.state === FAILED;
    }).length;
    panel.hidden = items.length === 0;
    var badge = panel.querySelector("[data-outbox-badge]");
    badge.hidden = !waiting;
    badge.textContent = say(T.tCount, { n: waiting });
    var failedBadge = panel.querySelector("[data-outbox-failed]");
    failedBadge.hidden = !failed;
    failedBadge.textContent = say(T.tFailedCount, { n: failed });
    panel.querySelector("[data-outbox-send]").hidden = !waiting;
    var status = panel.querySelector("[data-outbox-status]");
    var note = waiting && CODE_TEXT[lastResult] ? T[CODE_TEXT[lastResult]] : "";
    status.textContent = note;
    status.hidden = !note;
    panel.querySelector("[data-outbox-signin]").hidden = !(waiting && lastResult === "login");
    var list = panel.querySelector("[data-outbox-list]");
    list.textContent = "";
    items.forEach(function (item) {
      list.appendChild(row(item));
    });
  }
  api.onChange = function () {
    render().catch(function () {});
  };

  var sending = false;
  async function sendNow() {
    if (!user || sending) {
      return;
    }
    var items = await api.itemsOf(user);
    if (
      !items.some(function (i) {
        return i.state === WAITING || i.state === SENDING;
      })
    ) {
      return;
    }
    sending = true;
    try {
      lastResult = await api.flush();
    } catch (error) {
      lastResult = "offline";
    } finally {
      sending = false;
    }
    if (lastResult === "offline" || lastResult === "server") {
      syncLater();
    }
    await render();
  }

  function syncLater() {
    if (!("serviceWorker" in root.navigator)) {
      return;
    }
    root.navigator.serviceWorker.ready
      .then(function (registration) {
        return registration.sync && registration.sync.register("outbox");
      })
      .catch(function () {});
  }

  // Taking a form into the outbox ---------------------------------------------------------------

  async function shrinkPhoto(file) {
    if (!/^image\/(jpeg|png|webp)$/.test(file.type) || typeof root.createImageBitmap !== "function") {
      return file;
    }
    var bitmap;
    try {
      bitmap = await root.createImageBitmap(file, { imageOrientation: "from-image" });
    } catch (error) {
      return file; // a format the phone cannot draw (HEIC...): the server gets the original
    }
    var scale = PHOTO_MAX / Math.max(bitmap.width, bitmap.height);
    if (scale >= 1) {
      bitmap.close();
      return file;
    }
    var canvas = make("canvas");
    canvas.width = Math.round(bitmap.width * scale);
    canvas.height = Math.round(bitmap.height * scale);
    var context = canvas.getContext("2d");
    context.fillStyle = "#fff"; // a transparent PNG becomes white, not black
    context.fillRect(0, 0, canvas.width, canvas.height);
    context.imageSmoothingQuality = "high";
    context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    bitmap.close();
    var blob = await new Promise(function (resolve) {
      canvas.toBlob(resolve, "image/jpeg", PHOTO_QUALITY);
    });
    if (!blob) {
      return file;
    }
    return new File([blob], file.name.replace(/\.[^.]*$/, "") + ".jpg", { type: "image/jpeg", lastModified: file.lastModified });
  }

  // "Mulai" and an alert carry the position at the moment of tapping, when the phone gives it.
  function addPosition(form) {
    var lat = form.elements.namedItem("latitude");
    var lng = form.elements.namedItem("longitude");
    if (!lat || !lng || lat.value || !("geolocation" in root.navigator)) {
      return Promise.resolve();
    }
    return new Promise(function (resolve) {
      var timer = setTimeout(resolve, GEO_WAIT_MS);
      var done = function () {
        clearTimeout(timer);
        resolve();
      };
      root.navigator.geolocation.getCurrentPosition(
        function (position) {
          lat.value = position.coords.latitude.toFixed(6);
          lng.value = position.coords.longitude.toFixed(6);
          done();
        },
        done,
        { enableHighAccuracy: true, timeout: GEO_WAIT_MS, maximumAge: 60000 }
      );
    });
  }

  function summaryOf(form) {
    var text = "";
    Array.prototype.some.call(form.querySelectorAll("textarea, input[name=caption]"), function (field) {
      text = field.value.trim();
      return Boolean(text);
    });
    return text.length > 80 ? text.slice(0, 79) + "…" : text;
  }

  async function capture(form, submitter) {
    var data;
    try {
      data = new FormData(form, submitter || undefined);
    } catch (error) {
      data = new FormData(form);
    }
    var fields = [];
    var entries = Array.from(data.entries());
    for (var i = 0; i < entries.length; i++) {
      var name = entries[i][0];
      var value = entries[i][1];
      if (name === "csrfmiddlewaretoken") {
        continue;
      }
      if (typeof value === "string") {
        fields.push({ name: name, value: value });
      } else if (value.size || value.name) {
        var file = await shrinkPhoto(value);
        fields.push({ name: name, file: file, filename: file.name });
      }
    }
    var next = new URL(form.dataset.outboxNext || root.location.href, root.location.href);
    return {
      id: uuid(),
      userId: user,
      lokusId: form.dataset.outboxLokus || "",
      lokusTitle: form.dataset.outboxTitle || "",
      kind: form.dataset.outbox,
      label: form.dataset.outboxLabel || doc.title,
      summary: summaryOf(form),
      url: form.action,
      page: next.pathname,
      next: next.pathname + next.search + next.hash,
      fields: fields,
      capturedAt: new Date().toISOString(),
      created: Date.now(),
      state: WAITING,
      attempts: 0,
    };
  }

  function noteFor(form) {
    var note = form.querySelector("[data-outbox-note]");
    if (!note) {
      note = make("p", "outbox-note");
      note.setAttribute("data-outbox-note", "");
      note.setAttribute("role", "status");
      form.appendChild(note);
    }
    return note;
  }

  function tell(form, text, isError) {
    var note = noteFor(form);
    note.textContent = text || "";
    note.classList.toggle("error", Boolean(isError));
    note.hidden = !text;
  }

  function busy(form, on) {
    Array.prototype.forEach.call(form.querySelectorAll("button[type=submit], button:not([type])"), function (button) {
      button.disabled = on;
    });
  }

  function clearErrors(form) {
    Array.prototype.forEach.call(form.querySelectorAll(".field.has-error"), function (field) {
      field.classList.remove("has-error");
    });
    Array.prototype.forEach.call(form.querySelectorAll(".field .error"), function (line) {
      line.remove();
    });
  }

  // A refusal: the reasons beside the fields, the text still in the form.
  function showErrors(form, outcome) {
    var errors = Object.assign({}, outcome.errors || {});
    var general = outcome.message || "";
    if (outcome.html) {
      var page = new DOMParser().parseFromString(outcome.html, "text/html");
      Array.prototype.forEach.call(page.querySelectorAll(".field.has-error"), function (field) {
        var input = field.querySelector("[name]");
        if (input) {
          errors[input.name] = Array.prototype.map.call(field.querySelectorAll(".error"), function (line) {
            return line.textContent.trim();
          });
        }
      });
    }
    Object.keys(errors).forEach(function (name) {
      var found = form.elements.namedItem(name);
      var input = found && typeof RadioNodeList !== "undefined" && found instanceof RadioNodeList ? found[0] : found;
      var field = input && input.closest ? input.closest(".field") : null;
      if (!field) {
        if (!outcome.message) {
          general += " " + errors[name].join(" "); // a JSON answer's message has them already
        }
        return;
      }
      field.classList.add("has-error");
      errors[name].forEach(function (text) {
        field.appendChild(make("p", "error", text));
      });
    });
    general = general.trim();
    if (!general && outcome.status && !outcome.html) {
      general = T.tRefused + " (" + outcome.status + ")";
    }
    tell(form, general || T.tRefused, true);
  }

  function clearDraft(form) {
    if (form.dataset.draft) {
      try {
        root.localStorage.removeItem("lokus-draft:" + form.dataset.draft);
      } catch (error) {
        /* storage off */
      }
    }
  }

  function goTo(next, outcome) {
    if (outcome && outcome.message) {
      try {
        root.sessionStorage.setItem(FLASH, JSON.stringify({ level: outcome.level || "success", text: outcome.message }));
      } catch (error) {
        /* storage off: the item's line says it */
      }
    }
    var target = new URL(next, root.location.href);
    if (target.pathname === root.location.pathname && target.search === root.location.search) {
      root.history.replaceState(null, "", target.href);
      root.location.reload();
    } else {
      root.location.assign(target.href);
    }
  }

  function queued(form, item, result) {
    clearDraft(form);
    syncLater();
    var here = root.location.pathname === item.page;
    if (item.kind === "escalate") {
      // Stay by the phone numbers: when the alert cannot go, a call or an SMS can.
      busy(form, false);
      tell(form, T.tQueuedAlert);
      return;
    }
    if (!here) {
      goTo(item.next); // back to the assignment page (the phone's copy, offline)
      return;
    }
    form.reset();
    form.dataset.submitted = "";
    busy(form, ONCE.indexOf(item.kind) !== -1);
    tell(form, result === "login" ? T.tSignIn : T.tQueued);
  }

  async function take(form, submitter) {
    tell(form, T.tSaving);
    busy(form, true);
    clearErrors(form);
    if (WITH_POSITION.indexOf(form.dataset.outbox) !== -1) {
      await addPosition(form);
    }
    var item = await capture(form, submitter);
    try {
      await api.saveItem(item);
    } catch (error) {
      postDirectly(form, submitter); // the phone's storage is full or off: send it as it is
      return;
    }
    if (root.navigator.storage && root.navigator.storage.persist) {
      root.navigator.storage.persist().catch(function () {});
    }
    await render();
    if (!root.navigator.onLine) {
      lastResult = "offline";
      queued(form, item, lastResult);
      return;
    }
    tell(form, T.tSendingNow);
    sending = true;
    try {
      lastResult = await api.flush();
    } catch (error) {
      lastResult = "offline";
    } finally {
      sending = false;
    }
    var after = await api.getItem(item.id);
    var outcome = outcomes.get(item.id) || {};
    if (after && after.state === SENT) {
      clearDraft(form);
      goTo(item.next, outcome);
      return;
    }
    if (after && after.state === FAILED) {
      // The form still holds everything typed, with the reasons: no second copy in the list.
      await api.removeItem(item.id);
      await render();
      busy(form, false);
      form.dataset.submitted = "";
      showErrors(form, outcome);
      return;
    }
    await render();
    queued(form, item, lastResult);
  }

  // Without IndexedDB (storage off), the form is posted as the browser would.
  function postDirectly(form, submitter) {
    if (submitter && submitter.name) {
      var carried = make("input");
      carried.type = "hidden";
      carried.name = submitter.name;
      carried.value = submitter.value;
      form.appendChild(carried);
    }
    HTMLFormElement.prototype.submit.call(form);
  }

  async function forgetUser() {
    var items = await api.itemsOf(user);
    for (var i = 0; i < items.length; i++) {
      if (items[i].state === SENT) {
        await api.removeItem(items[i].id);
      }
    }
    var worker = root.navigator.serviceWorker && root.navigator.serviceWorker.controller;
    if (worker) {
      worker.postMessage({ type: "forget", user: user });
    }
    if (root.caches) {
      await root.caches.delete("lokus-pages-u" + user);
    }
    await api.setMeta("user", null);
  }

  async function signOut(form) {
    var unsent = 0;
    try {
      unsent = (await api.itemsOf(user)).filter(function (i) {
        return i.state !== SENT;
      }).length;
    } catch (error) {
      unsent = 0;
    }
    if (unsent && !root.confirm(say(T.tLogoutConfirm, { n: unsent }))) {
      form.dataset.submitted = "";
      return;
    }
    try {
      await forgetUser();
    } catch (error) {
      /* signing out matters more */
    }
    HTMLFormElement.prototype.submit.call(form);
  }

  doc.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !user || !panel) {
      return; // lokus.js stopped it (a second tap, a question answered "no")
    }
    if (form.hasAttribute("data-outbox-logout")) {
      event.preventDefault();
      signOut(form);
      return;
    }
    if (!form.hasAttribute("data-outbox")) {
      return;
    }
    event.preventDefault();
    var submitter = event.submitter;
    db().then(
      function () {
        take(form, submitter).catch(function () {
          busy(form, false);
          form.dataset.submitted = "";
          tell(form, T.tRefused, true);
        });
      },
      function () {
        postDirectly(form, submitter);
      }
    );
  });

  // The escalation page: SMS links that say where and what. ------------------------------------

  function emergencyLinks() {
    var box = doc.querySelector("[data-sms-title]");
    if (!box) {
      return;
    }
    var form = doc.querySelector("form[data-outbox=escalate]");
    var update = function () {
      var parts = [box.dataset.smsTitle];
      var kind = form && form.querySelector("input[name=kind]:checked");
      if (kind && kind.closest("label")) {
        parts.push(kind.closest("label").textContent.trim());
      }
      var lat = form && form.elements.namedItem("latitude");
      var lng = form && form.elements.namedItem("longitude");
      if (lat && lng && lat.value && lng.value) {
        parts.push(box.dataset.smsPosition + " " + lat.value + "," + lng.value);
      }
      var body = encodeURIComponent(parts.join(" – "));
      Array.prototype.forEach.call(box.querySelectorAll("a[data-sms]"), function (link) {
        link.href = "sms:" + link.dataset.sms + "?body=" + body;
      });
    };
    if (form) {
      form.addEventListener("change", update);
    }
    // The position arrives without an event (lokus.js): read it again as a link is tapped.
    box.addEventListener("click", update, true);
    update();
  }

  // Start ----------------------------------------------------------------------------------------

  function registerWorker() {
    var workers = root.navigator.serviceWorker;
    if (!workers || !panel.dataset.sw) {
      return;
    }
    var uncontrolled = !workers.controller;
    workers.register(panel.dataset.sw, { scope: "/" }).catch(function () {});
    workers.addEventListener("message", function (event) {
      if (event.data && event.data.type === "outbox") {
        if (event.data.result) {
          lastResult = event.data.result;
        }
        render().catch(function () {});
      }
    });
    workers.ready.then(function (registration) {
      var worker = registration.active;
      if (!worker) {
        return;
      }
      if (uncontrolled) {
        // This page came before the worker: let it keep a copy now.
        worker.postMessage({ type: "keep", urls: [root.location.href] });
      }
      var links = Array.prototype.map.call(doc.querySelectorAll("a[data-offline-prefetch]"), function (link) {
        return link.href;
      });
      if (links.length) {
        worker.postMessage({ type: "keep", urls: links, missingOnly: true });
      }
    });
  }

  async function dropOldSent() {
    var now = Date.now();
    var items = await api.itemsOf(user);
    for (var i = 0; i < items.length; i++) {
      if (items[i].state === SENT && now - Date.parse(items[i].sentAt || 0) > SENT_KEPT_MS) {
        await api.removeItem(items[i].id);
      }
    }
  }

  function start() {
    if (panel) {
      api.configure({ session: panel.dataset.session, login: panel.dataset.login });
    }
    // The worker serves the kept pages of this user only (none on the sign-in page).
    api.setMeta("user", user || null).catch(function () {});
    showBanner();
    showFlash();
    root.addEventListener("offline", showBanner);
    root.addEventListener("online", function () {
      showBanner();
      sendNow().catch(function () {});
    });
    if (!user || !panel) {
      return;
    }
    registerWorker();
    emergencyLinks();
    panel.querySelector("[data-outbox-send]").addEventListener("click", function () {
      sendNow().catch(function () {});
    });
    dropOldSent()
      .then(render)
      .then(function () {
        return root.navigator.onLine ? sendNow() : undefined;
      })
      .catch(function () {});
  }

  start();
})(self);
