/*
 * The close dialog's results per life domain (issue 15): for each domain of the conversation
 * (the triage's; the worker can add one) verbeterd / gelijk / doorverwezen, and where to
 * (formal or informal help from GET /api/inbox/referral-options). inbox.js calls render()
 * when a conversation opens and collect() when the worker closes it. Text only, no HTML.
 */
(function () {
  "use strict";

  var DOMAINS = {
    financien: "Financiën", werk_opleiding: "Werk & Opleiding", tijdsbesteding: "Tijdsbesteding",
    huisvesting: "Huisvesting", huiselijke_relaties: "Huiselijke relaties",
    geestelijke_gezondheid: "Geestelijke gezondheid", lichamelijke_gezondheid: "Lichamelijke gezondheid",
    middelengebruik: "Middelengebruik", basale_adl: "Basale ADL", instrumentele_adl: "Instrumentele ADL",
    sociaal_netwerk: "Sociaal netwerk", maatschappelijke_participatie: "Maatschappelijke participatie",
    justitie: "Justitie"
  };
  var RESULTS = [["", "Kies…"], ["improved", "Verbeterd"], ["same", "Gelijk gebleven"], ["referred", "Doorverwezen"]];
  var el = window.BakenDesk.el;
  var options = null;
  var shown = [];

  function $(id) { return document.getElementById(id); }

  async function loadOptions() {
    if (options) return options;
    var response = await fetch("/api/inbox/referral-options", { credentials: "same-origin", headers: { Accept: "application/json" } });
    options = response.ok ? await response.json() : [];
    return options;
  }

  function option(value, text) {
    var node = el("option", null, text);
    node.value = value;
    return node;
  }

  function placeSelect(domain) {
    var select = el("select", "referral");
    select.id = "referral-" + domain;
    select.appendChild(option("", "Waarheen?"));
    [["informal", "Informele en groepshulp"], ["formal", "Professionele hulp"]].forEach(function (kind) {
      var group = el("optgroup");
      group.label = kind[1];
      (options || []).forEach(function (o) {
        if (o.kind !== kind[0]) return;
        if (o.domains.length && o.domains.indexOf(domain) < 0 && o.key.indexOf("anders_") !== 0) return;
        group.appendChild(option(o.key, o.name + (o.example ? " (voorbeeld)" : "")));
      });
      if (group.children.length) select.appendChild(group);
    });
    return select;
  }

  function addRow(domain) {
    if (shown.indexOf(domain) >= 0) return;
    shown.push(domain);
    var row = el("div", "domain-outcome");
    row.setAttribute("data-domain", domain);
    var label = el("label", null, DOMAINS[domain] || domain);
    label.htmlFor = "result-" + domain;
    var result = el("select", "result");
    result.id = "result-" + domain;
    RESULTS.forEach(function (r) { result.appendChild(option(r[0], r[1])); });
    var place = placeSelect(domain);
    place.hidden = true;
    place.setAttribute("aria-label", "Waarheen doorverwezen bij " + (DOMAINS[domain] || domain));
    result.addEventListener("change", function () { place.hidden = result.value !== "referred"; });
    row.appendChild(label);
    row.appendChild(result);
    row.appendChild(place);
    $("domain-outcomes").appendChild(row);
    fillAdd();
  }

  function fillAdd() {
    var add = $("add-domain");
    add.textContent = "";
    add.appendChild(option("", "Levensgebied toevoegen…"));
    Object.keys(DOMAINS).forEach(function (slug) {
      if (shown.indexOf(slug) < 0) add.appendChild(option(slug, DOMAINS[slug]));
    });
  }

  var renderedFor = null;
  var csrf = null;

  /* "Samenvatting aanbieden" (warm referral): the citizen hears how to ask for a note to keep;
     nothing is made until they say yes themselves. A button in the manage bar of my conversation. */
  function offerButton(conv) {
    var button = $("offer-summary");
    if (!button) {
      button = el("button", null, "Samenvatting aanbieden aan de inwoner");
      button.type = "button";
      button.id = "offer-summary";
      button.addEventListener("click", async function () {
        button.disabled = true;
        try {
          if (!csrf) csrf = (await (await fetch("/api/auth/me", { credentials: "same-origin" })).json()).csrf_token;
          var api = window.BakenDesk.client({ csrf: function () { return csrf; } });
          await api("POST", "/api/inbox/conversations/" + button.getAttribute("data-conversation") + "/offer-summary");
          button.textContent = "Samenvatting aangeboden";
        } catch (err) {
          var error = $("action-error");
          error.textContent = err.message;
          error.hidden = false;
          button.disabled = false;
        }
      });
      $("manage").appendChild(button);
    }
    if (button.getAttribute("data-conversation") !== String(conv.conversation_id)) {
      button.setAttribute("data-conversation", String(conv.conversation_id));
      button.textContent = "Samenvatting aanbieden aan de inwoner";
      button.disabled = false;
    }
  }

  /* Called on every refresh of the open conversation: what the worker already chose stays. */
  async function render(conv) {
    offerButton(conv);
    await loadOptions();
    if (renderedFor !== conv.conversation_id) {
      renderedFor = conv.conversation_id;
      shown = [];
      $("domain-outcomes").textContent = "";
    }
    (conv.domains || []).forEach(addRow);
    fillAdd();
  }

  /* The results to send; throws an Error with a Dutch message when one is incomplete. */
  function collect() {
    var found = [];
    Array.prototype.forEach.call(document.querySelectorAll("#domain-outcomes .domain-outcome"), function (row) {
      var domain = row.getAttribute("data-domain");
      var result = row.querySelector("select.result").value;
      if (!result) return;  // not filled in: no result for that domain
      var entry = { domain: domain, result: result };
      if (result === "referred") {
        var place = row.querySelector("select.referral").value;
        if (!place) throw new Error("Kies bij " + (DOMAINS[domain] || domain) + " waarheen je hebt doorverwezen.");
        entry.referral = place;
      }
      found.push(entry);
    });
    return found;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var add = $("add-domain");
    if (!add) return;
    add.addEventListener("change", function () {
      if (add.value) addRow(add.value);
    });
  });

  window.BakenOutcomes = { render: render, collect: collect };
})();
