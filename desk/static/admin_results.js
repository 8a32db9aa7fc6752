/*
 * Baken admin: results (issue 15, "niet vrijblijvend maar resultaatgericht"). For the period
 * of the overview and one team or all: results per life domain and per team, referrals to
 * informal and formal help, time to the first contact against the Wgs terms, follow-ups.
 * Talks to /api/admin/dashboard/results; everything goes in with textContent, never as HTML.
 */
(function () {
  "use strict";

  var $ = function (id) { return document.getElementById(id); };
  var el = window.BakenDesk.el;
  var api = window.BakenDesk.client({ csrf: function () { return null; }, onLoggedOut: function () { location.href = "/inbox"; } });
  var URGENCY = { crisis: "Crisis", urgent: "Urgent", normal: "Normaal" };
  var NOT_YET = "nog niet beschikbaar";

  function query() {
    var parts = [];
    if ($("from") && $("from").value) parts.push("start=" + encodeURIComponent($("from").value));
    if ($("to") && $("to").value) parts.push("end=" + encodeURIComponent($("to").value));
    if ($("results-team").value) parts.push("team_id=" + encodeURIComponent($("results-team").value));
    return parts.length ? "?" + parts.join("&") : "";
  }

  function pct(share) { return share === null || share === undefined ? "–" : Math.round(share * 100) + "%"; }

  async function load() {
    var q = query();
    $("results-error").hidden = true;
    try {
      var r = await api("GET", "/api/admin/dashboard/results" + q);
      var figures = $("results-figures");
      figures.textContent = "";
      var followups = r.followups;
      [["Doorverwezen naar informele hulp", String(r.referrals.informal || 0)],
       ["Doorverwezen naar formele hulp", String(r.referrals.formal || 0)],
       ["Vervolgvragen verstuurd", followups ? String(followups.sent) : NOT_YET],
       ["Vervolgvragen beantwoord", followups ? String(followups.answered) : NOT_YET]
      ].forEach(function (pair) {
        figures.appendChild(el("dt", null, pair[0]));
        figures.appendChild(el("dd", null, pair[1]));
      });
      $("results-domains").src = "/api/admin/dashboard/results/domains.svg" + q;
      $("results-teams").src = "/api/admin/dashboard/results/teams.svg" + q;
      $("results-referrals").src = "/api/admin/dashboard/results/referrals.svg" + q;
      $("results-contact").src = "/api/admin/dashboard/results/first-contact.svg" + q;
      var body = $("results-contact-table");
      body.textContent = "";
      ["crisis", "urgent", "normal"].forEach(function (u) {
        var c = r.first_contact[u];
        var tr = el("tr");
        tr.setAttribute("data-urgency", u);
        tr.appendChild(el("th", null, URGENCY[u]));
        tr.appendChild(el("td", null, c.norm));
        tr.appendChild(el("td", null, String(c.count)));
        tr.appendChild(el("td", null, c.count ? String(c.median) : "–"));
        tr.appendChild(el("td", null, c.count ? String(c.p90) : "–"));
        tr.appendChild(el("td", null, pct(c.within_share)));
        tr.appendChild(el("td", null, String(c.no_contact)));
        body.appendChild(tr);
      });
      $("results-source").textContent = r.norm_source;
    } catch (err) {
      $("results-error").textContent = err.message;
      $("results-error").hidden = false;
    }
  }

  async function start() {
    var response = await fetch("/api/auth/me", { credentials: "same-origin" });
    if (!response.ok) return;
    var me = await response.json();
    if (me.worker.role !== "admin") return;
    try {
      (await api("GET", "/api/admin/teams")).forEach(function (team) {
        var option = el("option", null, team.name + (team.active ? "" : " (uit)"));
        option.value = String(team.id);
        $("results-team").appendChild(option);
      });
    } catch (err) { /* no teams list: all teams only */ }
    await load();
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!$("results-form")) return;
    $("results-form").addEventListener("submit", function (e) { e.preventDefault(); load(); });
    $("period").addEventListener("submit", function () { load(); });
    start();
  });
})();
