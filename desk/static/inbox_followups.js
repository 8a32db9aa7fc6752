/*
 * Follow-up in the inbox (issue 15, handoff/inbox/followups_api.py): on your own conversation
 * "Vervolgvraag aanbieden" (the citizen chooses; only a yes schedules one check-in a week
 * later) and "Ik kom erop terug" (a reminder for yourself on a day, with a short note; only if
 * you tick it, the citizen reads the date). Your reminders are listed above the queue; on their
 * day they come in live. inbox.js calls render(conv) when a conversation opens and refresh()
 * with the lists. Text only, never HTML.
 */
(function () {
  "use strict";

  var el = window.BakenDesk.el;
  var me = null;
  var csrf = null;
  var conv = null;
  var api = window.BakenDesk.client({ csrf: function () { return csrf; } });

  function $(id) { return document.getElementById(id); }

  async function who(fresh) {
    if (me && !fresh) return me;
    var response = await fetch("/api/auth/me", { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) return null;
    var data = await response.json();
    me = data.worker || data;
    csrf = data.csrf_token;
    return me;
  }

  function today(offsetDays) {
    var d = new Date();
    d.setDate(d.getDate() + offsetDays);
    return d.getFullYear() + "-" + ("0" + (d.getMonth() + 1)).slice(-2) + "-" + ("0" + d.getDate()).slice(-2);
  }

  // ---- the box in the conversation ----
  function build() {
    if ($("followup-box")) return;
    var box = el("section", "followup");
    box.id = "followup-box";
    box.hidden = true;
    box.setAttribute("aria-labelledby", "followup-title");
    var title = el("h3", null, "Vervolg");
    title.id = "followup-title";
    box.appendChild(title);

    var offer = el("button", null, "Vervolgvraag aanbieden");
    offer.type = "button";
    offer.id = "followup-offer";
    box.appendChild(offer);
    box.appendChild(el("p", "explain", "De inwoner kiest zelf. Alleen bij 'ja' vragen we over een week hoe het ging."));

    var details = el("details");
    details.id = "followup-remind-box";
    details.appendChild(el("summary", null, "Ik kom erop terug"));
    var form = el("form");
    form.id = "followup-form";
    var dayLabel = el("label", null, "Op welke dag");
    dayLabel.htmlFor = "followup-day";
    var day = el("input");
    day.type = "date";
    day.id = "followup-day";
    day.required = true;
    var noteLabel = el("label", null, "Korte notitie voor jezelf (de inwoner ziet dit niet)");
    noteLabel.htmlFor = "followup-note";
    var note = el("input");
    note.id = "followup-note";
    note.maxLength = 300;
    note.autocomplete = "off";
    var tellLabel = el("label", "check");
    var tell = el("input");
    tell.type = "checkbox";
    tell.id = "followup-tell";
    tellLabel.appendChild(tell);
    tellLabel.appendChild(document.createTextNode(" Vertel de inwoner: 'Je hoort uiterlijk … van ons.'"));
    var save = el("button", null, "Herinnering zetten");
    save.type = "submit";
    [dayLabel, day, noteLabel, note, tellLabel, save].forEach(function (n) { form.appendChild(n); });
    details.appendChild(form);
    box.appendChild(details);

    var status = el("p", "explain");
    status.id = "followup-status";
    status.setAttribute("role", "status");
    box.appendChild(status);

    var manage = $("manage");
    manage.parentNode.insertBefore(box, manage.nextSibling);
    offer.addEventListener("click", offerCheckIn);
    form.addEventListener("submit", remind);
  }

  function say(text) { $("followup-status").textContent = text; }

  async function offerCheckIn() {
    if (!conv) return;
    $("followup-offer").disabled = true;
    try {
      var result = await api("POST", "/api/inbox/conversations/" + conv.conversation_id + "/followup-offer");
      say(result.text);
    } catch (err) {
      say(err.message);
    } finally {
      $("followup-offer").disabled = false;
    }
  }

  async function remind(e) {
    e.preventDefault();
    if (!conv) return;
    try {
      var reminder = await api("POST", "/api/inbox/conversations/" + conv.conversation_id + "/reminders", {
        due_on: $("followup-day").value, note: $("followup-note").value, tell_citizen: $("followup-tell").checked
      });
      say("Herinnering gezet voor " + reminder.due_on_text + ".");
      $("followup-note").value = "";
      $("followup-tell").checked = false;
      refresh();
    } catch (err) {
      say(err.message);
    }
  }

  async function render(opened) {
    build();
    if (!conv || conv.conversation_id !== opened.conversation_id) say("");
    conv = opened;
    var worker = await who(true); // the page may have logged in as someone else meanwhile
    var mine = worker && opened.worker_id === worker.id;
    var withMe = mine && opened.status === "with_worker";
    $("followup-box").hidden = !(withMe || (mine && opened.status === "closed"));
    $("followup-remind-box").hidden = !withMe;
    $("followup-day").min = today(0);
    if (!$("followup-day").value) $("followup-day").value = today(2);
  }

  // ---- the list of reminders ----
  function buildList() {
    if ($("reminders")) return;
    var lists = document.querySelector(".lists");
    if (!lists) return;
    var head = el("h2", null, "Herinneringen ");
    var count = el("span", "count", "0");
    count.id = "reminders-count";
    head.appendChild(count);
    var list = el("ul", "items");
    list.id = "reminders";
    var empty = el("p", "empty", "Geen herinneringen.");
    empty.id = "reminders-empty";
    lists.insertBefore(empty, lists.firstChild);
    lists.insertBefore(list, empty);
    lists.insertBefore(head, list);
  }

  function reminderNode(r) {
    var li = el("li", r.due ? "reminder due" : "reminder");
    li.setAttribute("data-reminder", String(r.id));
    li.appendChild(el("strong", null, (r.due ? "Vandaag terugkomen: " : "Gepland: ") + "gesprek " + r.conversation_id));
    li.appendChild(el("span", "meta", " · " + r.due_on_text));
    if (r.note) li.appendChild(el("p", "pre", r.note));
    var open = el("button", null, "Open gesprek");
    open.type = "button";
    open.addEventListener("click", function () {
      var target = document.querySelector('[data-conversation="' + r.conversation_id + '"]');
      if (target) target.click();
    });
    var done = el("button", null, "Klaar");
    done.type = "button";
    done.addEventListener("click", async function () {
      done.disabled = true;
      try { await api("POST", "/api/inbox/reminders/" + r.id + "/done"); } catch (err) { /* the list shows what is left */ }
      refresh();
    });
    li.appendChild(open);
    li.appendChild(done);
    return li;
  }

  async function refresh() {
    buildList();
    if (!(await who())) return;
    var response = await fetch("/api/inbox/reminders", { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) return;
    var items = await response.json();
    var list = $("reminders");
    list.textContent = "";
    items.forEach(function (r) { list.appendChild(reminderNode(r)); });
    $("reminders-count").textContent = String(items.length);
    $("reminders-empty").hidden = items.length > 0;
  }

  window.BakenFollowups = { render: render, refresh: refresh };
})();
