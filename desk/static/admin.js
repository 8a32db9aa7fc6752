/*
 * Baken admin: the NLU inbox. Plain JavaScript; every text from the API goes in with
 * textContent. Needs an admin session (log in at /inbox first).
 */
(function () {
  "use strict";

  var $ = function (id) { return document.getElementById(id); };
  var csrf = null;
  var intents = [];
  var entityTypes = [];
  var REASON = {
    fallback: "assistent begreep het niet", low_confidence: "twijfel", close_second: "twee intenties bijna gelijk",
    flagged: "aangewezen door een medewerker", handoff_misunderstanding: "doorgezet omdat de assistent het niet begreep"
  };

  var el = window.BakenDesk.el;
  var api = window.BakenDesk.client({
    csrf: function () { return csrf; },
    onLoggedOut: function () { location.href = "/inbox"; }
  });

  function intentName(typed) {
    var value = (typed || "").trim();
    var match = intents.filter(function (i) { return i.name === value || label(i) === value; })[0];
    return match ? match.name : null;
  }
  function label(i) { return i.name + " – " + i.meaning; }

  function status(text) { $("admin-status").textContent = text; }

  async function annotate(itemIds, action, intent, entities) {
    var result = await api("POST", "/api/admin/nlu-inbox/annotate",
      { item_ids: itemIds, action: action, intent: intent, entities: entities || [] });
    status(result.updated + (result.updated === 1 ? " bericht" : " berichten") + " verwerkt.");
    await load();
  }

  function renderGroup(group) {
    var li = el("li", "group");
    var head = el("div", "group-head");
    var check = el("input");
    check.type = "checkbox";
    check.id = "g-" + group.item_ids[0];
    check.setAttribute("data-items", group.item_ids.join(","));
    var text = el("label", "group-text", group.text);
    text.htmlFor = check.id;
    head.appendChild(check);
    head.appendChild(text);
    li.appendChild(head);
    var meta = el("p", "meta");
    meta.textContent = (group.count > 1 ? group.count + "× · " : "") +
      "geraden: " + (group.predicted_intents.join(", ") || "–") + " · " +
      group.reasons.map(function (r) { return REASON[r] || r; }).join(", ");
    li.appendChild(meta);
    var row = el("div", "group-actions");
    var inputId = "i-" + group.item_ids[0];
    var lab = el("label", "visually-hidden", "Juiste intentie");
    lab.htmlFor = inputId;
    var input = el("input");
    input.id = inputId;
    input.setAttribute("list", "intent-options");
    input.placeholder = "Juiste intentie…";
    input.autocomplete = "off";
    var save = el("button", "primary", "Opslaan");
    save.type = "button";
    save.addEventListener("click", async function () {
      var name = intentName(input.value);
      if (!name) { status("Kies een intentie uit de lijst."); input.focus(); return; }
      save.disabled = true;
      try { await annotate(group.item_ids, "intent", name, marks); } catch (e) { status(e.message); save.disabled = false; }
    });
    var oos = el("button", null, "Buiten ons terrein");
    oos.type = "button";
    oos.addEventListener("click", function () { annotate(group.item_ids, "out_of_scope").catch(function (e) { status(e.message); }); });
    var discard = el("button", null, "Weggooien");
    discard.type = "button";
    discard.addEventListener("click", function () { annotate(group.item_ids, "discard").catch(function (e) { status(e.message); }); });
    row.appendChild(lab);
    row.appendChild(input);
    row.appendChild(save);
    row.appendChild(oos);
    row.appendChild(discard);
    li.appendChild(row);
    var marks = [];
    li.appendChild(markingPanel(group, text, marks));
    return li;
  }

  /* "Woorden markeren": the admin picks words from the message (select them, or type them),
   * says what kind of thing they are, and they are saved with the intent. */
  function markingPanel(group, textLabel, marks) {
    var key = group.item_ids[0];
    var details = el("details", "marking");
    details.appendChild(el("summary", null, "Woorden markeren (naam van een instantie, regeling, bedrag of periode)"));
    var row = el("div", "marking-row");
    var phraseLab = el("label", null, "Woord(en) uit het bericht");
    var phrase = el("input");
    phrase.id = "mw-" + key;
    phrase.autocomplete = "off";
    phraseLab.htmlFor = phrase.id;
    var take = el("button", null, "Neem selectie over");
    take.type = "button";
    take.addEventListener("mousedown", function (e) { e.preventDefault(); });  // keep the selection
    take.addEventListener("click", function () {
      var selection = window.getSelection();
      var picked = selection ? String(selection).trim() : "";
      if (!picked || !textLabel.contains(selection.anchorNode)) { status("Selecteer eerst woorden in het bericht."); return; }
      phrase.value = picked;
    });
    var typeLab = el("label", null, "Soort");
    var type = el("select");
    type.id = "mt-" + key;
    typeLab.htmlFor = type.id;
    entityTypes.forEach(function (t) {
      var option = el("option", null, t.name + " – " + t.meaning);
      option.value = t.name;
      type.appendChild(option);
    });
    var valueLab = el("label", null, "Vaste naam (mag leeg)");
    var value = el("input");
    value.id = "mv-" + key;
    value.autocomplete = "off";
    value.setAttribute("list", "values-" + (entityTypes[0] ? entityTypes[0].name : ""));
    valueLab.htmlFor = value.id;
    type.addEventListener("change", function () { value.setAttribute("list", "values-" + type.value); });
    var add = el("button", null, "Markeer");
    add.type = "button";
    var list = el("ul", "marks");
    function redraw() {
      list.textContent = "";
      marks.forEach(function (m, index) {
        var item = el("li", null, "“" + m.text + "” = " + m.entity + (m.value ? " (" + m.value + ")" : ""));
        var remove = el("button", null, "verwijder");
        remove.type = "button";
        remove.setAttribute("aria-label", "Markering " + m.text + " verwijderen");
        remove.addEventListener("click", function () { marks.splice(index, 1); redraw(); });
        item.appendChild(remove);
        list.appendChild(item);
      });
    }
    add.addEventListener("click", function () {
      var words = phrase.value.trim();
      if (!words) { status("Typ of selecteer eerst een woord uit het bericht."); phrase.focus(); return; }
      if (group.text.toLowerCase().indexOf(words.toLowerCase()) < 0) { status("Dat staat niet in het bericht."); phrase.focus(); return; }
      marks.push({ text: words, entity: type.value, value: value.value.trim() || null });
      phrase.value = "";
      value.value = "";
      redraw();
      status("Gemarkeerd. Kies nu de intentie en klik op Opslaan.");
    });
    [phraseLab, phrase, take, typeLab, type, valueLab, value, add].forEach(function (n) { row.appendChild(n); });
    details.appendChild(row);
    details.appendChild(list);
    return details;
  }

  async function load() {
    var inbox = await api("GET", "/api/admin/nlu-inbox");
    intents = inbox.intents;
    var options = $("intent-options");
    options.textContent = "";
    intents.forEach(function (i) {
      var option = el("option");
      option.value = i.name;
      option.label = i.meaning;
      options.appendChild(option);
    });
    entityTypes = inbox.entity_types;
    var valueLists = $("entity-values");
    valueLists.textContent = "";
    entityTypes.forEach(function (t) {
      var datalist = el("datalist");
      datalist.id = "values-" + t.name;
      t.values.forEach(function (v) { var o = el("option"); o.value = v; datalist.appendChild(o); });
      valueLists.appendChild(datalist);
    });
    $("open-count").textContent = String(inbox.open);
    var list = $("groups");
    list.textContent = "";
    inbox.groups.forEach(function (g) { list.appendChild(renderGroup(g)); });
    $("groups-empty").hidden = inbox.groups.length > 0;
  }

  function selectedItems() {
    var ids = [];
    Array.prototype.forEach.call(document.querySelectorAll("#groups input[type=checkbox]:checked"), function (c) {
      c.getAttribute("data-items").split(",").forEach(function (id) { ids.push(Number(id)); });
    });
    return ids;
  }

  function bulk(action) {
    return async function () {
      var ids = selectedItems();
      if (!ids.length) { status("Selecteer eerst een of meer groepen."); return; }
      var name = null;
      if (action === "intent") {
        name = intentName($("bulk-intent").value);
        if (!name) { status("Kies een intentie uit de lijst."); $("bulk-intent").focus(); return; }
      }
      try { await annotate(ids, action, name); } catch (e) { status(e.message); }
    };
  }
  $("bulk-save").addEventListener("click", bulk("intent"));
  $("bulk-oos").addEventListener("click", bulk("out_of_scope"));
  $("bulk-discard").addEventListener("click", bulk("discard"));

  /* The annotated examples kept as training data (in the database, not in data/): each one
   * can be deleted; the next training goes without it. */
  function renderExample(example) {
    var tr = el("tr");
    tr.setAttribute("data-example", String(example.id));
    tr.appendChild(el("td", "example-text", example.text));
    tr.appendChild(el("td", null, example.intent));
    tr.appendChild(el("td", null, example.entities.join(", ") || "–"));
    var day = example.annotated_at ? new Date(example.annotated_at).toLocaleDateString("nl-NL") : "";
    tr.appendChild(el("td", null, (example.annotated_by || "–") + (day ? ", " + day : "")));
    var actions = el("td");
    var remove = el("button", null, "Verwijderen");
    remove.type = "button";
    remove.setAttribute("aria-label", "Voorbeeld " + example.id + " verwijderen");
    remove.addEventListener("click", async function () {
      if (!window.confirm("Dit voorbeeld verwijderen? Het volgende model wordt zonder dit voorbeeld getraind.")) { return; }
      remove.disabled = true;
      try {
        await api("DELETE", "/api/admin/training-examples/" + example.id);
        $("examples-status").textContent = "Het voorbeeld is verwijderd.";
        await loadExamples();
      } catch (e) {
        $("examples-status").textContent = e.message;
        remove.disabled = false;
      }
    });
    actions.appendChild(remove);
    tr.appendChild(actions);
    return tr;
  }

  async function loadExamples() {
    var kept = await api("GET", "/api/admin/training-examples");
    $("examples-count").textContent = String(kept.total);
    var body = $("examples");
    body.textContent = "";
    kept.examples.forEach(function (example) { body.appendChild(renderExample(example)); });
    $("examples-empty").hidden = kept.examples.length > 0;
  }

  $("export").addEventListener("click", async function () {
    $("export").disabled = true;
    try {
      var report = await api("POST", "/api/admin/nlu-inbox/export");
      await loadExamples();
      var parts = Object.keys(report.written).map(function (f) { return f + ": " + report.written[f]; });
      $("export-result").textContent = "Bewaard voor de volgende training: " + (parts.join(", ") || "niets nieuws") +
        (report.patterns_added.length ? ". Nieuwe woorden: " + report.patterns_added.join(", ") : "") +
        (report.refused.length ? ". Geweigerd: " + report.refused.length + " (" + report.refused.map(function (r) { return r.reason; }).join(", ") + ")." : ".");
    } catch (e) {
      $("export-result").textContent = e.message;
    } finally {
      $("export").disabled = false;
    }
  });

  // ---- models: train, progress, scores, promote, roll back ----
  var STATUS = { training: "wordt getraind", failed: "mislukt", ready: "klaar", live: "live", retired: "eerder gebruikt" };
  var openModel = null;
  var pollTimer = null;

  function pct(value) { return value === undefined ? "–" : (value * 100).toFixed(1) + " %"; }
  function modelStatus(text) { $("models-status").textContent = text; }

  async function loadModels() {
    var registry = await api("GET", "/api/admin/models");
    var body = $("models");
    body.textContent = "";
    registry.versions.forEach(function (v) {
      var tr = el("tr");
      var name = el("td");
      name.appendChild(el("span", null, v.name));
      if (v.status === "live") { name.appendChild(document.createTextNode(" ")); name.appendChild(el("span", "badge-live", "live")); }
      tr.appendChild(name);
      tr.appendChild(el("td", null, (STATUS[v.status] || v.status) + (v.error ? ": " + v.error : "")));
      tr.appendChild(el("td", null, pct(v.scores.accuracy)));
      tr.appendChild(el("td", null, pct(v.scores.macro_f1)));
      tr.appendChild(el("td", v.scores.crisis_recall !== undefined && v.scores.crisis_recall < 1 ? "worse" : null, pct(v.scores.crisis_recall)));
      tr.appendChild(el("td", null, pct(v.scores.false_crisis)));
      var actions = el("td");
      if (v.status === "ready" || v.status === "retired" || v.status === "live") {
        var view = el("button", null, "Bekijk");
        view.type = "button";
        view.addEventListener("click", function () { showModel(v.id); });
        actions.appendChild(view);
      }
      if (v.status === "retired" && v.was_live) {
        var back = el("button", null, "Terugzetten");
        back.type = "button";
        back.addEventListener("click", function () { promote(v.id, null, back); });
        actions.appendChild(back);
      }
      tr.appendChild(actions);
      body.appendChild(tr);
    });
    var running = registry.versions.filter(function (v) { return v.status === "training"; })[0];
    $("training").hidden = !running;
    $("train").disabled = !!running;
    if (running) {
      $("train-stage").textContent = "Bezig: " + running.stage + " (" + running.progress + " %)";
      $("train-progress").value = running.progress;
      clearTimeout(pollTimer);
      pollTimer = setTimeout(pollModels, 2000);
    }
    return registry;
  }

  // While a training runs the page asks every 2 s; one failed request (a busy database, a
  // dropped connection) must not freeze the progress bar: ask again a little later.
  function pollModels() {
    loadModels().catch(function () {
      clearTimeout(pollTimer);
      pollTimer = setTimeout(pollModels, 4000);
    });
  }

  async function showModel(id) {
    var m = await api("GET", "/api/admin/models/" + id);
    openModel = m;
    $("model-detail").hidden = false;
    $("detail-title").textContent = "Model " + m.name + " (" + (STATUS[m.status] || m.status) + ")";
    var rows = [["Nauwkeurigheid", "accuracy"], ["Macro-F1", "macro_f1"], ["Crisisherkenning", "crisis_recall"],
      ["Vals crisisalarm", "false_crisis"], ["Leefgebieden (F1)", "domain_micro_f1"]];
    var compare = $("compare");
    compare.textContent = "";
    rows.forEach(function (r) {
      var tr = el("tr");
      tr.appendChild(el("th", null, r[0]));
      tr.appendChild(el("td", null, pct(m.scores[r[1]])));
      tr.appendChild(el("td", null, pct(m.live_scores[r[1]])));
      compare.appendChild(tr);
    });
    var gate = $("gate");
    gate.textContent = "";
    m.gate.forEach(function (reason) { gate.appendChild(el("li", null, reason)); });
    $("override-box").hidden = !m.gate.length || m.was_live;
    $("promote").hidden = m.status === "live";
    $("promote").textContent = m.was_live ? "Zet dit model terug" : "Zet dit model live";
    $("f1-chart").src = "/api/admin/models/" + id + "/f1.svg";
    $("confusion-chart").src = "/api/admin/models/" + id + "/confusion.svg";
  }

  async function promote(id, reason, button) {
    if (button) button.disabled = true;
    try {
      await api("POST", "/api/admin/models/" + id + "/promote", { override_reason: reason });
      modelStatus("Het model is live. Lopende gesprekken gaan gewoon door.");
      await loadModels();
      if (openModel && openModel.id === id) await showModel(id);
    } catch (e) {
      modelStatus(e.message);
    } finally {
      if (button) button.disabled = false;
    }
  }

  $("promote").addEventListener("click", function () {
    if (!openModel) return;
    var reason = $("override").value.trim() || null;
    if (openModel.gate.length && !openModel.was_live && !reason) {
      modelStatus("Dit model haalt de lat niet. Geef een reden als je het toch live wilt zetten.");
      $("override").focus();
      return;
    }
    promote(openModel.id, reason, $("promote"));
  });

  $("train").addEventListener("click", async function () {
    $("train").disabled = true;
    try {
      await api("POST", "/api/admin/models/train");
      modelStatus("De training is gestart. Je kunt deze pagina open laten of later terugkomen.");
    } catch (e) {
      modelStatus(e.message);
    }
    await loadModels();
  });

  // ---- dashboard ----
  var URGENCY = { crisis: "Crisis", urgent: "Urgent", normal: "Normaal" };
  var OUTCOME = { resolved: "Opgelost", referred: "Doorverwezen", no_response: "Geen reactie" };

  async function loadDashboard() {
    var query = "?start=" + encodeURIComponent($("from").value) + "&end=" + encodeURIComponent($("to").value);
    $("dash-error").hidden = true;
    try {
      var d = await api("GET", "/api/admin/dashboard" + query);
      var figures = $("figures");
      figures.textContent = "";
      [["Gesprekken", String(d.conversations)],
       ["Doorgezet naar een medewerker", d.handed_off + " (" + pct(d.handoff_rate) + ")"],
       ["Berichten die de assistent niet begreep", d.fallbacks + " van " + d.citizen_messages + " (" + pct(d.fallback_rate) + ")"]
      ].forEach(function (pair) {
        figures.appendChild(el("dt", null, pair[0]));
        figures.appendChild(el("dd", null, pair[1]));
      });
      $("per-day").src = "/api/admin/dashboard/conversations.svg" + query;
      var waiting = $("waiting-times");
      waiting.textContent = "";
      ["crisis", "urgent", "normal"].forEach(function (u) {
        var w = d.waiting_minutes[u];
        var tr = el("tr");
        tr.appendChild(el("th", null, URGENCY[u]));
        tr.appendChild(el("td", null, String(w.count)));
        tr.appendChild(el("td", null, w.count ? String(w.median) : "–"));
        tr.appendChild(el("td", null, w.count ? String(w.p90) : "–"));
        waiting.appendChild(tr);
      });
      var outcomes = $("outcomes");
      outcomes.textContent = "";
      Object.keys(OUTCOME).forEach(function (o) {
        var tr = el("tr");
        tr.appendChild(el("th", null, OUTCOME[o]));
        tr.appendChild(el("td", null, String(d.outcomes[o] || 0)));
        outcomes.appendChild(tr);
      });
      var attention = $("content-attention");
      attention.textContent = "";
      (await api("GET", "/api/admin/dashboard/content")).forEach(function (item) {
        var tr = el("tr");
        tr.appendChild(el("th", null, item.title));
        tr.appendChild(el("td", null, item.why));
        attention.appendChild(tr);
      });
    } catch (e) {
      $("dash-error").textContent = e.message;
      $("dash-error").hidden = false;
    }
  }
  $("period").addEventListener("submit", function (e) { e.preventDefault(); loadDashboard(); });

  // ---- privacy: retention and erasure ----
  function when(iso) {
    if (!iso) return "niets bewaard";
    var d = new Date(iso);
    return isNaN(d) ? "" : d.toLocaleString("nl-NL", { day: "numeric", month: "long", year: "numeric", hour: "2-digit", minute: "2-digit" });
  }

  async function loadRetention() {
    var r = await api("GET", "/api/admin/retention");
    var body = $("retention");
    body.textContent = "";
    r.kinds.forEach(function (k) {
      var tr = el("tr");
      tr.setAttribute("data-kind", k.kind);
      tr.appendChild(el("th", null, k.label));
      tr.firstChild.setAttribute("scope", "row");
      tr.appendChild(el("td", null, k.kept));
      tr.appendChild(el("td", null, String(k.due_now)));
      tr.appendChild(el("td", null, String(k.due_within_week)));
      tr.appendChild(el("td", null, k.automatic === false ? "niet vanzelf (" + k.stored + " bewaard)" : when(k.next_at)));
      body.appendChild(tr);
    });
    $("retention-note").textContent =
      "Wachten op of bij een medewerker (niet vanzelf gewist): " + r.never_automatic + ". " +
      "Laatste ronde: " + (r.last_run ? when(r.last_run) : "nog niet") + ". " +
      (r.pending_purges ? r.pending_purges + " bestanden of geheugens van de assistent worden nog verwijderd." : "");
  }

  $("erase-form").addEventListener("submit", async function (e) {
    e.preventDefault();
    var id = Number($("erase-id").value);
    var reason = $("erase-reason").value.trim();
    if (!window.confirm("Alles van de inwoner van gesprek " + id + " wissen? Dit kan niet ongedaan worden.")) return;
    try {
      var result = await api("POST", "/api/admin/erase", { conversation_id: id, reason: reason });
      var n = result.erased_conversations.length;
      $("privacy-status").textContent = n + (n === 1 ? " gesprek is" : " gesprekken zijn") + " gewist.";
      $("erase-form").reset();
      await loadRetention();
    } catch (err) { $("privacy-status").textContent = err.message; }
  });

  // ---- privacy: finding a conversation's number for an erasure request ----
  var CHANNEL = { telegram: "Telegram", widget: "Website" };
  var CONVERSATION_STATUS = { bot: "bij de assistent", queued: "wacht op een medewerker", with_worker: "bij een medewerker", closed: "gesloten" };

  async function eraseFound(id, reason) {
    if (!window.confirm("Alles van de inwoner van gesprek " + id + " wissen? Dit kan niet ongedaan worden.")) return;
    try {
      var result = await api("POST", "/api/admin/erase", { conversation_id: id, reason: reason });
      var n = result.erased_conversations.length;
      $("lookup-status").textContent = n + (n === 1 ? " gesprek is" : " gesprekken zijn") + " gewist.";
      $("lookup-results").textContent = "";
      $("lookup-table").hidden = true;
      await loadRetention();
    } catch (err) { $("lookup-status").textContent = err.message; }
  }

  $("lookup-form").addEventListener("submit", async function (e) {
    e.preventDefault();
    var reason = $("lookup-reason").value.trim();
    var channel = $("lookup-channel").value;
    var body = {
      channel: channel,
      date_from: $("lookup-from").value,
      date_to: $("lookup-to").value,
      first_name: channel === "telegram" ? ($("lookup-name").value.trim() || null) : null,
      reason: reason
    };
    var rows = $("lookup-results");
    rows.textContent = "";
    $("lookup-table").hidden = true;
    try {
      var found = await api("POST", "/api/admin/erase/lookup", body);
      found.conversations.forEach(function (c) {
        var tr = el("tr");
        tr.setAttribute("data-id", String(c.id));
        tr.appendChild(el("td", null, String(c.id)));
        tr.appendChild(el("td", null, CHANNEL[c.channel] || c.channel));
        tr.appendChild(el("td", null, when(c.started)));
        tr.appendChild(el("td", null, CONVERSATION_STATUS[c.status] || c.status));
        tr.appendChild(el("td", null, c.summary_start || "(geen samenvatting)"));
        var cell = el("td");
        var button = el("button", null, "Wis alles van deze inwoner");
        button.type = "button";
        button.setAttribute("aria-label", "Wis alles van de inwoner van gesprek " + c.id);
        button.addEventListener("click", function () { eraseFound(c.id, reason); });
        cell.appendChild(button);
        tr.appendChild(cell);
        rows.appendChild(tr);
      });
      $("lookup-table").hidden = found.conversations.length === 0;
      var n = found.conversations.length;
      $("lookup-status").textContent = n === 0 ? "Geen gesprekken gevonden." :
        n + (n === 1 ? " gesprek gevonden." : " gesprekken gevonden.") +
        (found.more ? " Er zijn er meer: maak de periode kleiner." : "");
    } catch (err) { $("lookup-status").textContent = err.message; }
  });

  // ---- workers and admins ----
  var myId = null;
  function workersStatus(text) { $("workers-status").textContent = text; }

  async function changeWorker(id, change, done) {
    try {
      await api("POST", "/api/admin/workers/" + id, change);
      workersStatus(done);
      await loadWorkers();
      await loadSettings();
    } catch (e) { workersStatus(e.message); }
  }

  async function loadWorkers() {
    var people = await api("GET", "/api/admin/workers");
    var body = $("workers");
    body.textContent = "";
    people.forEach(function (w) {
      var tr = el("tr");
      tr.appendChild(el("td", null, w.name));
      tr.appendChild(el("td", null, w.role === "admin" ? "Beheerder" : "Medewerker"));
      tr.appendChild(el("td", null, w.disabled ? "uitgeschakeld" : (w.presence === "online" ? "online" : "afwezig")));
      tr.appendChild(el("td", null, String(w.max_concurrent)));
      var actions = el("td");
      if (w.id !== myId) {
        var toggle = el("button", null, w.disabled ? "Inschakelen" : "Uitschakelen");
        toggle.type = "button";
        toggle.addEventListener("click", function () {
          changeWorker(w.id, { disabled: !w.disabled }, w.name + (w.disabled ? " is ingeschakeld." : " is uitgeschakeld."));
        });
        actions.appendChild(toggle);
      }
      var reset = el("button", null, "Nieuw wachtwoord");
      reset.type = "button";
      reset.addEventListener("click", function () {
        var password = window.prompt("Nieuw wachtwoord voor " + w.name + " (minstens 12 tekens):");
        if (password) changeWorker(w.id, { password: password }, "Het wachtwoord van " + w.name + " is gewijzigd.");
      });
      actions.appendChild(reset);
      tr.appendChild(actions);
      body.appendChild(tr);
    });
  }

  $("new-worker").addEventListener("submit", async function (e) {
    e.preventDefault();
    try {
      await api("POST", "/api/admin/workers", {
        name: $("new-name").value, role: $("new-role").value, password: $("new-password").value,
        max_concurrent: Number($("new-limit").value) || 5
      });
      workersStatus("Account " + $("new-name").value + " is gemaakt.");
      $("new-name").value = "";
      $("new-password").value = "";
      await loadWorkers();
      await loadSettings();
    } catch (err) { workersStatus(err.message); }
  });

  // ---- settings: office hours, wijkteam, standard replies ----
  var DAYS = [["monday", "Maandag"], ["tuesday", "Dinsdag"], ["wednesday", "Woensdag"], ["thursday", "Donderdag"],
    ["friday", "Vrijdag"], ["saturday", "Zaterdag"], ["sunday", "Zondag"]];
  var TEAM = [["name", "Naam"], ["phone", "Telefoon"], ["email", "E-mail"], ["website", "Website"], ["address", "Adres"]];
  function settingsStatus(text) { $("settings-status").textContent = text; }

  function field(container, id, labelText, value) {
    var lab = el("label", null, labelText);
    lab.htmlFor = id;
    var input = el("input");
    input.id = id;
    input.value = value || "";
    input.maxLength = 200;
    container.appendChild(lab);
    container.appendChild(input);
  }

  function cannedItem(reply) {
    var li = el("li", "canned-item");
    var n = $("canned-list").children.length + 1;
    field(li, "canned-title-" + n, "Titel", reply.title);
    var lab = el("label", null, "Tekst");
    lab.htmlFor = "canned-text-" + n;
    var area = el("textarea");
    area.id = "canned-text-" + n;
    area.rows = 3;
    area.value = reply.text || "";
    li.appendChild(lab);
    li.appendChild(area);
    var remove = el("button", null, "Verwijderen");
    remove.type = "button";
    remove.addEventListener("click", function () { li.remove(); });
    li.appendChild(remove);
    $("canned-list").appendChild(li);
  }

  async function loadSettings() {
    var s = await api("GET", "/api/admin/settings");
    var hours = $("hours-fields");
    hours.textContent = "";
    DAYS.forEach(function (d) { field(hours, "hours-" + d[0], d[1], s.opening_hours[d[0]]); });
    $("hours-text").value = s.opening_hours.text;
    $("hours-closed").value = s.opening_hours.closed_days;
    $("hours-open-holidays").value = s.opening_hours.open_on_holidays;
    var team = $("team-fields");
    team.textContent = "";
    TEAM.forEach(function (t) { field(team, "team-" + t[0], t[1], s.wijkteam[t[0]]); });
    $("canned-list").textContent = "";
    s.canned_replies.forEach(cannedItem);
  }

  async function save(path, body, done) {
    try { await api("PUT", path, body); settingsStatus(done); } catch (e) { settingsStatus(e.message); }
  }
  $("hours-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var body = { text: $("hours-text").value, closed_days: $("hours-closed").value.trim(),
      open_on_holidays: $("hours-open-holidays").value.trim() };
    DAYS.forEach(function (d) { body[d[0]] = $("hours-" + d[0]).value.trim(); });
    save("/api/admin/settings/opening-hours", body, "De openingstijden zijn opgeslagen.");
  });
  $("team-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var body = {};
    TEAM.forEach(function (t) { body[t[0]] = $("team-" + t[0]).value.trim(); });
    save("/api/admin/settings/wijkteam", body, "De contactgegevens zijn opgeslagen.");
  });
  $("canned-add").addEventListener("click", function () { cannedItem({ title: "", text: "" }); });
  $("canned-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var replies = Array.prototype.map.call($("canned-list").children, function (li) {
      return { title: li.querySelector("input").value.trim(), text: li.querySelector("textarea").value.trim() };
    }).filter(function (r) { return r.title || r.text; });
    save("/api/admin/settings/canned-replies", replies, "De standaardantwoorden zijn opgeslagen.");
  });

  (async function () {
    try {
      var response = await fetch("/api/auth/me", { credentials: "same-origin" });
      if (!response.ok) { location.href = "/inbox"; return; }
      var me = await response.json();
      csrf = me.csrf_token;
      $("me-name").textContent = me.worker.name;
      if (me.worker.role !== "admin") {
        $("denied").textContent = "Dit deel is alleen voor beheerders.";
        $("denied").hidden = false;
        return;
      }
      $("admin").hidden = false;
      var today = new Date();
      var monthAgo = new Date(today.getTime() - 29 * 86400000);
      $("to").value = today.toISOString().slice(0, 10);
      $("from").value = monthAgo.toISOString().slice(0, 10);
      await loadDashboard();
      myId = me.worker.id;
      await load();
      await loadExamples();
      await loadModels();
      await loadWorkers();
      await loadSettings();
      await loadRetention();
    } catch (e) {
      $("denied").textContent = e.message;
      $("denied").hidden = false;
    }
  })();
})();
