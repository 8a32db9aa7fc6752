/*
 * Baken admin: teams (issue 15). Create, change, switch off and on again; their hours,
 * life domains, urgencies, sources, members and the fallback team. Talks to
 * /api/admin/teams. Everything is put in the page with textContent, never as HTML.
 */
(function () {
  "use strict";

  var $ = function (id) { return document.getElementById(id); };
  var el = window.BakenDesk.el;
  var csrf = null;
  var api = window.BakenDesk.client({
    csrf: function () { return csrf; },
    onLoggedOut: function () { location.href = "/inbox"; }
  });
  var DAYS = [["monday", "Maandag"], ["tuesday", "Dinsdag"], ["wednesday", "Woensdag"], ["thursday", "Donderdag"],
    ["friday", "Vrijdag"], ["saturday", "Zaterdag"], ["sunday", "Zondag"]];
  var choices = { domains: [], urgencies: [], sources: [] };
  var workers = [];
  var teams = [];
  var editing = null;

  function status(text) { $("teams-status").textContent = text; }

  // a refused change: the sentence, and what was wrong in which field (pydantic says "Value error, …")
  function explain(err) {
    var details = (err.problems || []).map(function (p) { return String(p.problem).replace(/^Value error, /, ""); });
    return details.length ? err.message + " " + details.join(" ") : err.message;
  }

  function label(list, value) {
    var found = list.filter(function (c) { return c.value === value; })[0];
    return found ? found.label : value;
  }

  function checkbox(container, name, value, text, checked) {
    var lab = el("label", "check");
    var input = el("input");
    input.type = "checkbox";
    input.name = name;
    input.value = String(value);
    input.checked = !!checked;
    lab.appendChild(input);
    lab.appendChild(document.createTextNode(" " + text));
    container.appendChild(lab);
  }

  function checked(name) {
    return Array.prototype.filter.call(document.querySelectorAll("input[name='" + name + "']"), function (i) {
      return i.checked;
    }).map(function (i) { return i.value; });
  }

  function fieldset(id, legendText) {
    var box = $(id);
    box.textContent = "";
    box.appendChild(el("legend", null, legendText));
    return box;
  }

  // `keepText`: at the start, keep what the admin may already have typed
  function fillForm(team, keepText) {
    editing = team;
    $("teams-form-title").textContent = team ? "Team " + team.name + " wijzigen" : "Nieuw team";
    $("teams-cancel").hidden = !team;
    if (!keepText) {
      $("teams-name").value = team ? team.name : "";
      $("teams-description").value = team ? team.description : "";
    }
    var domains = fieldset("teams-domains", "Levensgebieden (niets aangevinkt: alle)");
    choices.domains.forEach(function (c) {
      checkbox(domains, "teams-domain", c.value, c.label, team && team.domains.indexOf(c.value) >= 0);
    });
    var urgencies = fieldset("teams-urgencies", "Urgentie (niets aangevinkt: alle)");
    choices.urgencies.forEach(function (c) {
      checkbox(urgencies, "teams-urgency", c.value, c.label, team && team.urgencies.indexOf(c.value) >= 0);
    });
    $("teams-sources").value = team ? team.sources.join(", ") : "";
    $("teams-own-hours").checked = !!(team && team.hours);
    var hours = $("teams-hours");
    hours.textContent = "";
    DAYS.forEach(function (d) {
      var lab = el("label", null, d[1]);
      lab.htmlFor = "teams-hours-" + d[0];
      var input = el("input");
      input.id = "teams-hours-" + d[0];
      input.maxLength = 60;
      input.placeholder = "09:00-17:00";
      input.value = team && team.hours ? team.hours[d[0]] || "" : "";
      hours.appendChild(lab);
      hours.appendChild(input);
    });
    hours.hidden = !$("teams-own-hours").checked;
    var members = fieldset("teams-members", "Leden");
    workers.filter(function (w) { return !w.disabled; }).forEach(function (w) {
      checkbox(members, "teams-member", w.id, w.name, team && team.member_ids.indexOf(w.id) >= 0);
    });
    $("teams-fallback").checked = !!(team && team.fallback);
    $("teams-active").checked = team ? team.active : true;
  }

  function takes(team) {
    var parts = [];
    parts.push(team.domains.length ? team.domains.map(function (d) { return label(choices.domains, d); }).join(", ") : "alle levensgebieden");
    if (team.urgencies.length) parts.push("urgentie: " + team.urgencies.join(", "));
    if (team.sources.length) parts.push("bron: " + team.sources.join(", "));
    if (team.fallback) parts.push("vangnet");
    return parts.join(" · ");
  }

  function times(team) {
    if (!team.hours) return "zoals de gemeente";
    return DAYS.filter(function (d) { return team.hours[d[0]]; }).map(function (d) {
      return d[1].slice(0, 2).toLowerCase() + " " + team.hours[d[0]];
    }).join("; ") || "geen tijden: altijd dicht";
  }

  function render() {
    var body = $("teams");
    body.textContent = "";
    teams.forEach(function (team) {
      var tr = el("tr");
      tr.setAttribute("data-team", String(team.id));
      var name = el("td");
      name.appendChild(el("strong", null, team.name));
      if (!team.active) name.appendChild(el("span", null, " (uit)"));
      if (team.description) name.appendChild(el("span", "explain", " – " + team.description));
      tr.appendChild(name);
      tr.appendChild(el("td", null, takes(team)));
      tr.appendChild(el("td", null, times(team)));
      tr.appendChild(el("td", null, workers.filter(function (w) { return team.member_ids.indexOf(w.id) >= 0; })
        .map(function (w) { return w.name; }).join(", ") || "nog niemand"));
      var actions = el("td");
      var edit = el("button", null, "Wijzigen");
      edit.type = "button";
      edit.addEventListener("click", function () { fillForm(team); $("teams-name").focus(); });
      actions.appendChild(edit);
      var toggle = el("button", null, team.active ? "Uitzetten" : "Aanzetten");
      toggle.type = "button";
      toggle.addEventListener("click", function () {
        change(team.id, { active: !team.active }, "Team " + team.name + (team.active ? " is uitgezet." : " is aangezet."));
      });
      actions.appendChild(toggle);
      tr.appendChild(actions);
      body.appendChild(tr);
    });
  }

  async function load() {
    teams = await api("GET", "/api/admin/teams");
    render();
  }

  async function change(id, body, done) {
    try {
      await api("POST", "/api/admin/teams/" + id, body);
      status(done);
      await load();
    } catch (err) { status(explain(err)); }
  }

  $("teams-own-hours").addEventListener("change", function () { $("teams-hours").hidden = !$("teams-own-hours").checked; });
  $("teams-cancel").addEventListener("click", function () { fillForm(null); status(""); });

  $("teams-form").addEventListener("submit", async function (e) {
    e.preventDefault();
    var button = $("teams-save");
    if (button.disabled) return;
    var hours = null;
    if ($("teams-own-hours").checked) {
      hours = {};
      DAYS.forEach(function (d) { hours[d[0]] = $("teams-hours-" + d[0]).value.trim(); });
    }
    var body = {
      name: $("teams-name").value.trim(),
      description: $("teams-description").value.trim(),
      domains: checked("teams-domain"),
      urgencies: checked("teams-urgency"),
      sources: $("teams-sources").value.split(",").map(function (s) { return s.trim(); }).filter(Boolean),
      hours: hours,
      member_ids: checked("teams-member").map(Number),
      fallback: $("teams-fallback").checked,
      active: $("teams-active").checked
    };
    button.disabled = true; // a double click makes one team
    try {
      if (editing) await api("POST", "/api/admin/teams/" + editing.id, body);
      else await api("POST", "/api/admin/teams", body);
      status("Team " + body.name + " is opgeslagen.");
      fillForm(null);
      await load();
    } catch (err) {
      status(explain(err)); // the form keeps what was typed
    } finally {
      button.disabled = false;
    }
  });

  (async function () {
    try {
      var response = await fetch("/api/auth/me", { credentials: "same-origin" });
      if (!response.ok) return;
      var me = await response.json();
      if (me.worker.role !== "admin") return;
      csrf = me.csrf_token;
      choices = await api("GET", "/api/admin/teams/choices");
      workers = await api("GET", "/api/admin/workers");
      fillForm(null, true);
      await load();
    } catch (err) { status(explain(err)); }
  })();
})();
