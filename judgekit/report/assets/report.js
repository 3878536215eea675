/* judgekit report: renders the embedded JSON blob, one page of cards at a time.
 *
 * Every string from the data (prompts, reasoning, raw replies, ids) reaches the page through
 * textContent or setAttribute, never innerHTML, so untrusted text always shows as text.
 * The whole view state lives in the URL fragment, which makes every view a deep link and lets
 * the back button work. */
(function () {
  "use strict";
  const D = JSON.parse(document.getElementById("jk-data").textContent);
  const ROWS = D.rows, GROUPS = D.groups, IMAGES = D.images;
  const PAGE = 50, GPAGE = 20;
  const PAIR_RUBRICS = new Set(ROWS.filter((r) => r.k === "pairwise").map((r) => r.r));
  const byUid = new Map();
  ROWS.forEach((r, i) => {
    byUid.set(r.u, i);
    // Search covers what a person looks for: prompt, ids, model, the reasoning and the error.
    r._s = [r.p, r.ins || "", r.id, r.pid || "", r.m, ...Object.values(r.rs || {}), r.e || "",
            ...((r.x && r.x.dims) || []).flatMap((d) => [d.AB ? d.AB.r : "", d.BA ? d.BA.r : ""])].join("\n").toLowerCase();
  });
  GROUPS.forEach((g) => { g._s = [g.p, g.key].join("\n").toLowerCase(); });
  const $ = (id) => document.getElementById(id);

  // --- DOM helpers (text only) -------------------------------------------------------------
  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    if (attrs) {
      for (const [k, v] of Object.entries(attrs)) {
        if (v === null || v === undefined || v === false) continue;
        if (k === "class") e.className = v;
        else if (k === "text") e.textContent = v;
        else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
        else e.setAttribute(k, v === true ? "" : String(v));
      }
    }
    for (const kid of kids) if (kid !== null && kid !== undefined) e.append(kid);
    return e;
  }
  // Counts print bare; a statistic (``stat``) always has its digits, so 1 and 0.667 line up.
  function fmt(v, digits, stat) {
    if (v === null || v === undefined) return "–";
    if (typeof v !== "number") return String(v);
    if (Number.isInteger(v) && !stat) return String(v);
    return v.toFixed(digits === undefined ? 3 : digits);
  }
  // An estimate with its interval, all with the same fixed digits ("0.500 [0.250, 0.750]").
  function interval(e, digits) {
    if (!e || e.ci_low === null || e.ci_low === undefined) return "";
    return `[${e.ci_low.toFixed(digits)}, ${e.ci_high.toFixed(digits)}]`;
  }
  function ci(e, digits) {
    const d = digits === undefined ? 3 : digits;
    if (!e || e.value === null || e.value === undefined) return "–";
    const c = interval(e, d);
    return e.value.toFixed(d) + (c ? " " + c : "");
  }

  // --- state <-> URL fragment --------------------------------------------------------------
  const DEFAULTS = { view: "overview", rubric: "", model: "", status: "", dim: "", q: "", sort: "order", page: "1", min: "", max: "", sample: "", why: "" };
  function readState() {
    const p = new URLSearchParams(location.hash.slice(1));
    const s = {};
    for (const k of Object.keys(DEFAULTS)) s[k] = p.get(k) || DEFAULTS[k];
    if (s.sample) s.view = "sample";
    return s;
  }
  function writeState(s) {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(s)) if (v && v !== DEFAULTS[k]) p.set(k, v);
    if (s.view === "sample") p.delete("view");
    const h = "#" + p.toString();
    if (h !== location.hash) location.hash = h; else render();
  }
  function setState(patch, keepPage) {
    const s = Object.assign(readState(), patch);
    if (!keepPage && !("page" in patch)) s.page = "1";
    if (s.view !== "sample") s.sample = "";
    writeState(s);
  }

  // --- filtering and sorting ---------------------------------------------------------------
  function scoreOf(r, dim) {
    if (dim) { const v = r.sc[dim]; return v === undefined ? null : v; }
    return r.o;
  }
  // "inconsistent": the merged winner is "inconsistent", as `judgekit summary` counts them;
  // "flipped": the two orders named different winners on some dimension (whatever the merge made of it).
  function statusMatches(r, status) {
    if (!status) return true;
    if (status === "inconsistent") return !!(r.x && r.x.w === "inconsistent");
    if (status === "flipped") return r.k === "pairwise" && r.d === 1;
    return r.st === status;
  }
  function filtered(s) {
    const q = s.q.toLowerCase().trim();
    const lo = s.min === "" ? null : Number(s.min), hi = s.max === "" ? null : Number(s.max);
    const out = [];
    for (let i = 0; i < ROWS.length; i++) {
      const r = ROWS[i];
      if (s.rubric && r.r !== s.rubric) continue;
      if (s.model && !r.ms.includes(s.model) && r.m !== s.model) continue;
      if (!statusMatches(r, s.status)) continue;
      if (s.why && r.fk !== s.why) continue;
      if (s.dim && !(s.dim in r.sc)) continue;
      if (q && !r._s.includes(q)) continue;
      if (lo !== null || hi !== null) {
        const v = scoreOf(r, s.dim);
        if (v === null || (lo !== null && v < lo) || (hi !== null && v > hi)) continue;
      }
      out.push(i);
    }
    return sortRows(out, s);
  }
  const neg = (v) => (v === null || v === undefined ? null : -v);
  function cmpNullLast(a, b) {
    if (a === null && b === null) return 0;
    if (a === null) return 1;
    if (b === null) return -1;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  function sortRows(ix, s) {
    const by = {
      order: () => 0,
      low: (a, b) => cmpNullLast(scoreOf(ROWS[a], s.dim), scoreOf(ROWS[b], s.dim)),
      high: (a, b) => cmpNullLast(neg(scoreOf(ROWS[a], s.dim)), neg(scoreOf(ROWS[b], s.dim))),
      // Whole prompts together, the prompt whose models differ most first.
      disagree: (a, b) => cmpNullLast(neg(ROWS[a].d), neg(ROWS[b].d)) || ROWS[a].g - ROWS[b].g,
      prompt: (a, b) => ROWS[a].p.localeCompare(ROWS[b].p) || ROWS[a].g - ROWS[b].g,
      model: (a, b) => ROWS[a].m.localeCompare(ROWS[b].m),
      status: (a, b) => (ROWS[a].st === ROWS[b].st ? 0 : ROWS[a].st === "failed" ? -1 : 1),
    }[s.sort] || (() => 0);
    return ix.map((i, k) => [i, k]).sort((x, y) => by(x[0], y[0]) || x[1] - y[1]).map((x) => x[0]);
  }

  // --- pieces of a card --------------------------------------------------------------------
  function image(role, caption, ref, linked) {
    const im = IMAGES[ref] || { error: "image missing from the report" };
    const fig = el("figure", { class: "jk-fig jk-role-" + role });
    if (im.error) fig.append(el("div", { class: "jk-img-error", role: "img", text: "⚠ " + im.error }));
    else {
      const img = el("img", { src: im.src, alt: caption, loading: "lazy", decoding: "async", width: im.w, height: im.h });
      const full = im.full || (im.src.startsWith("data:") ? null : im.src);
      // In a card, the image opens the original file at full resolution (a new tab).
      fig.append(linked && full ? el("a", { href: full, target: "_blank", rel: "noopener", class: "jk-full", title: "open at full resolution" }, img) : img);
    }
    if (caption) fig.append(el("figcaption", { text: caption }));
    return fig;
  }
  function images(r, mini) {
    const box = el("div", { class: "jk-images" });
    // In a prompt row the model is named under the image already.
    for (const [role, caption, ref] of r.im) box.append(image(role, mini && caption === r.m ? "" : caption, ref, !mini));
    if (!r.im.length) box.append(el("div", { class: "jk-img-none", text: "no image recorded" }));
    return box;
  }
  function scoreBadge(v, st, r) {
    if (st !== "failed" && r && r.k === "pairwise" && r.x) {  // a pair has a winner, not a score
      return el("span", { class: "jk-score jk-win", title: "winner", text: "▲ " + (r.x.w || "–") });
    }
    return el("span", { class: "jk-score" + (st === "failed" ? " jk-failed" : ""), text: st === "failed" ? "failed" : fmt(v) });
  }
  function seedChip(r) { return r.sd === undefined || r.sd === null ? null : el("span", { class: "jk-seed", title: "seed", text: "seed " + r.sd }); }
  // Reasoning clamped to three lines opens in place on a click.
  function why(text, full) {
    if (full) return el("td", { class: "jk-why", text });
    return el("td", { class: "jk-why jk-clamp", title: "click to read all of it", text, onclick: (ev) => ev.currentTarget.classList.toggle("jk-open") });
  }
  function dims(r, full, focus) {
    const names = Object.keys(r.sc);
    if (!names.length) return null;
    const t = el("table", { class: "jk-dims" });
    const withWhy = Object.keys(r.rs).length > 0;
    t.append(el("tr", null, el("th", { text: "dimension" }), el("th", { text: "score" }), withWhy ? el("th", { text: "reasoning" }) : null));
    for (const n of names) {
      t.append(el("tr", { class: n === focus ? "jk-focus" : null },
        el("td", { text: n }), el("td", { class: "jk-num", text: fmt(r.sc[n]) }),
        withWhy ? why(r.rs[n] || "", full) : null));
    }
    if (!withWhy) t.classList.add("jk-narrow");
    return t;
  }
  function pairwise(x, full) {
    const box = el("div", { class: "jk-pair" });
    box.append(el("div", { class: "jk-winner" }, "winner: ", el("b", { text: x.w || "–" }),
      x.merge ? el("span", { class: "jk-muted", text: ` (merge rule: ${x.merge})` }) : null));
    const t = el("table", { class: "jk-dims" });
    t.append(el("tr", null, el("th", { text: "dimension" }), el("th", { text: "A,B order" }), el("th", { text: "B,A order" }),
      el("th", { text: "merged" }), el("th", { text: "consistent" })));
    for (const d of x.dims) {
      const cell = (v) => {
        if (!v) return el("td", { class: "jk-muted", text: "no verdict" });
        const c = why(v.r, full);
        c.prepend(el("b", { class: "jk-verdict", text: `${v.w} → ${v.m || "?"}` }), el("br"));
        return c;
      };
      t.append(el("tr", null, el("td", { text: d.n }), cell(d.AB), cell(d.BA), el("td", { text: d.w || "–" }),
        el("td", { class: d.c === false ? "jk-bad" : d.c ? "jk-good" : "", text: d.c === null || d.c === undefined ? "–" : d.c ? "yes" : "no" })));
    }
    box.append(t);
    return box;
  }
  function questions(x, full) {
    const t = el("table", { class: "jk-qs" });
    const hasP = x.qs.some((q) => q.py !== undefined);
    t.append(el("tr", null, ...["#", "question", "category", "parents", "answer", hasP ? "P(yes)" : null, "raw", "score", ""].filter((h) => h !== null).map((h) => el("th", { text: h }))));
    const qs = full ? x.qs : x.qs.slice(0, 12);
    for (const q of qs) {
      const zeroed = q.g && q.g.length;
      const note = zeroed ? `zeroed: parent ${q.g.join(", ")} failed` : (q.err || "");
      t.append(el("tr", { class: zeroed ? "jk-zeroed" : q.s === 0 ? "jk-no" : null },
        el("td", { text: q.id }), el("td", { text: q.q }), el("td", { text: q.cat || "" }), el("td", { text: (q.par || []).join(", ") }),
        el("td", { text: q.a === null || q.a === undefined ? "–" : q.a }), hasP ? el("td", { class: "jk-num", text: q.py === undefined ? "" : fmt(q.py) }) : null,
        el("td", { class: "jk-num", text: fmt(q.raw, 0) }), el("td", { class: "jk-num", text: fmt(q.s, 2) }), el("td", { class: "jk-muted", text: note })));
    }
    const box = el("div", { class: "jk-qbox" }, el("div", { class: "jk-muted", text: `scoring rule: ${x.rule || "?"}` }), t);
    if (!full && x.qs.length > qs.length) box.append(el("div", { class: "jk-muted", text: `… ${x.qs.length - qs.length} more (open the sample)` }));
    return box;
  }
  function vqascore(x) {
    const p = x.p_yes;
    const bar = el("div", { class: "jk-bar" }, el("div", { class: "jk-bar-fill", style: `width:${Math.max(0, Math.min(1, p || 0)) * 100}%` }));
    return el("div", { class: "jk-vqa" }, el("div", null, "P(yes) ", el("b", { text: fmt(p) }), `   P(no) ${fmt(x.p_no)}   normalized ${fmt(x.p_norm)}`,
      x.tok ? el("span", { class: "jk-muted", text: `   answer token: ${JSON.stringify(x.tok)}` }) : null), bar);
  }
  function textRendering(x) {
    const box = el("div", { class: "jk-text" });
    box.append(el("div", null, el("span", { class: "jk-label", text: "target" }), el("span", { class: "jk-mono", text: x.targets.join(" | ") })));
    box.append(el("div", null, el("span", { class: "jk-label", text: "read" }), el("span", { class: "jk-mono", text: x.tr === null || x.tr === undefined ? "–" : x.tr })));
    if (x.diff) {
      const d = el("div", { class: "jk-diff jk-mono" }, el("span", { class: "jk-label", text: "diff" }));
      for (const [op, txt] of x.diff) { d.append(el("span", { class: "jk-d-" + op, title: op, text: txt })); d.append(" "); }
      box.append(d);
    }
    if (x.total) box.append(el("div", { class: "jk-muted", text: `${x.matched} of ${x.total} target tokens found (${x.lang})` }));
    return box;
  }
  function failure(r) {
    if (r.st !== "failed" && !r.raw) return null;
    const box = el("div", { class: "jk-failure" });
    if (r.e) box.append(el("div", null, el("b", { text: "reason: " }), r.e));
    for (const [k, v] of Object.entries(r.raw || {})) {
      box.append(el("details", { open: r.st === "failed" ? true : null }, el("summary", { text: `raw reply (${k})` }), el("pre", { text: v })));
    }
    return box;
  }
  function card(r, full, s) {
    const link = el("a", { class: "jk-link", href: "#sample=" + encodeURIComponent(r.u), title: "link to this sample", text: "#" + r.id });
    const head = el("header", null, el("span", { class: "jk-model", text: r.m }), scoreBadge(r.o, r.st, r), seedChip(r),
      el("span", { class: "jk-muted", text: r.r + (r.pid ? " · " + r.pid : "") }), link);
    const body = el("div", { class: "jk-body" });
    if (r.p || !r.ins) body.append(el("div", { class: "jk-prompt", text: r.p || "(no prompt recorded)" }));
    if (r.ins) body.append(el("div", { class: "jk-ins" }, el("span", { class: "jk-label", text: "instruction" }), r.ins));
    const x = r.x;
    if (r.k === "pairwise" && x) body.append(pairwise(x, full));
    else if (r.k === "questions" && x) body.append(questions(x, full));
    else {
      if (r.k === "vqascore" && x) body.append(vqascore(x));
      if (r.k === "text-rendering" && x) body.append(textRendering(x));
      const t = dims(r, full, s && s.dim);
      if (t) body.append(t);
    }
    const f = failure(r);
    if (f) body.append(f);
    return el("article", { class: "jk-card" + (r.st === "failed" ? " jk-card-failed" : ""), id: "s-" + r.u, "data-uid": r.u },
      head, el("div", { class: "jk-cardbody" }, images(r), body));
  }

  // --- views -------------------------------------------------------------------------------
  function pager(page, pages, total, noun) {
    const bar = el("nav", { class: "jk-pager" });
    const go = (p) => () => setState({ page: String(p) });
    bar.append(el("button", { type: "button", disabled: page <= 1, onclick: go(page - 1), text: "‹ prev" }));
    bar.append(el("span", { class: "jk-pageinfo", text: `page ${page} of ${pages} · ${total.toLocaleString("en")} ${noun}` }));
    bar.append(el("button", { type: "button", disabled: page >= pages, onclick: go(page + 1), text: "next ›" }));
    return bar;
  }
  function samplesView(s) {
    const ix = filtered(s);
    const pages = Math.max(1, Math.ceil(ix.length / PAGE));
    const page = Math.min(pages, Math.max(1, parseInt(s.page, 10) || 1));
    const start = (page - 1) * PAGE;
    const list = el("div", { id: "jk-list", class: "jk-list" });
    for (const i of ix.slice(start, start + PAGE)) list.append(card(ROWS[i], false, s));
    if (!ix.length) list.append(el("p", { class: "jk-empty", text: "No sample matches these filters." }));
    const count = el("div", { id: "jk-count", "data-total": ix.length, "data-shown": Math.min(PAGE, Math.max(0, ix.length - start)),
      text: ix.length ? `samples ${start + 1}–${Math.min(ix.length, start + PAGE)} of ${ix.length.toLocaleString("en")} (of ${ROWS.length.toLocaleString("en")})` : `0 of ${ROWS.length.toLocaleString("en")} samples` });
    return [count, pager(page, pages, ix.length, "samples"), list, pager(page, pages, ix.length, "samples")];
  }
  // A prompt's score under the chosen dimension: the mean over its scored samples (null when none is).
  function groupScore(g, dim) {
    const v = g.rows.map((i) => (ROWS[i].st === "ok" ? scoreOf(ROWS[i], dim) : null)).filter((x) => x !== null && x !== undefined);
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
  }
  function miniTile(r) {
    const mini = el("a", { class: "jk-mini" + (r.st === "failed" ? " jk-card-failed" : ""), href: "#sample=" + encodeURIComponent(r.u) });
    mini.append(r.im.length ? images(r, true) : "", el("div", { class: "jk-mini-cap" }, el("span", { class: "jk-model", text: r.m }),
      r.sd === undefined || r.sd === null ? null : el("span", { class: "jk-seed", text: "s" + r.sd }), scoreBadge(r.o, r.st, r)));
    return mini;
  }
  function promptsView(s) {
    const q = s.q.toLowerCase().trim();
    let gs = [];
    const lo = s.min === "" ? null : Number(s.min), hi = s.max === "" ? null : Number(s.max);
    GROUPS.forEach((g, gi) => {
      if (s.rubric && g.r !== s.rubric) return;
      if (q && !g._s.includes(q) && !g.rows.some((i) => ROWS[i]._s.includes(q))) return;
      if (s.model && !g.rows.some((i) => ROWS[i].ms.includes(s.model))) return;
      if (s.status && !g.rows.some((i) => statusMatches(ROWS[i], s.status))) return;
      if (s.why && !g.rows.some((i) => ROWS[i].fk === s.why)) return;
      if (s.dim && !g.rows.some((i) => s.dim in ROWS[i].sc)) return;
      if (lo !== null || hi !== null) {
        const v = groupScore(g, s.dim);
        if (v === null || (lo !== null && v < lo) || (hi !== null && v > hi)) return;
      }
      gs.push(gi);
    });
    // Unscored prompts (pairs, all failed) go last in both score orders.
    const cmp = {
      disagree: (a, b) => cmpNullLast(neg(GROUPS[a].d), neg(GROUPS[b].d)),
      low: (a, b) => cmpNullLast(groupScore(GROUPS[a], s.dim), groupScore(GROUPS[b], s.dim)),
      high: (a, b) => cmpNullLast(neg(groupScore(GROUPS[a], s.dim)), neg(groupScore(GROUPS[b], s.dim))),
      prompt: (a, b) => GROUPS[a].p.localeCompare(GROUPS[b].p),
    }[s.sort];
    if (cmp) gs = gs.map((g, k) => [g, k]).sort((x, y) => cmp(x[0], y[0]) || x[1] - y[1]).map((x) => x[0]);
    const pages = Math.max(1, Math.ceil(gs.length / GPAGE));
    const page = Math.min(pages, Math.max(1, parseInt(s.page, 10) || 1));
    const list = el("div", { id: "jk-list", class: "jk-list" });
    for (const gi of gs.slice((page - 1) * GPAGE, page * GPAGE)) {
      const g = GROUPS[gi];
      const row = el("div", { class: "jk-grouprow" });
      for (const i of g.rows) row.append(miniTile(ROWS[i]));
      list.append(el("section", { class: "jk-group" },
        el("header", null, el("span", { class: "jk-prompt", text: g.p || g.key }),
          el("span", { class: "jk-muted", text: `${g.r} · ${g.key}` + (g.d === null || g.d === undefined ? "" :
            ROWS[g.rows[0]].k === "pairwise" ? (g.d ? " · the two orders disagree" : " · orders agree") : ` · spread ${fmt(g.d)}`) })),
        row));
    }
    if (!gs.length) list.append(el("p", { class: "jk-empty", text: "No prompt matches these filters." }));
    const count = el("div", { id: "jk-count", "data-total": gs.length, text: `${gs.length.toLocaleString("en")} prompts` });
    return [count, pager(page, pages, gs.length, "prompts"), list];
  }
  function sampleView(s) {
    const i = byUid.get(s.sample);
    // Back goes where the user came from (history.back restores that list and its scroll).
    const back = el("a", { href: "#view=samples", class: "jk-back", text: "‹ back", onclick: (ev) => {
      if (navigated) { ev.preventDefault(); history.back(); }
    } });
    if (i === undefined) return [back, el("p", { class: "jk-empty", id: "jk-count", text: `No sample with id ${s.sample} in this report.` })];
    const r = ROWS[i];
    const others = GROUPS[r.g].rows.filter((j) => j !== i);
    const out = [back, el("div", { id: "jk-count", "data-total": 1, text: `sample ${r.id}` }),
      el("div", { id: "jk-list", class: "jk-list" }, card(r, true, s))];
    if (others.length) {
      const row = el("div", { class: "jk-grouprow" });
      for (const j of others) row.append(miniTile(ROWS[j]));
      out.push(el("h3", { text: "Same prompt, other samples" }), row);
    }
    return out;
  }

  // --- overview: tables and plots ----------------------------------------------------------
  // cols: [header, value(row), class, link(row)?]: a column with a link makes its cell a link.
  function table(cols, rows) {
    const t = el("table", { class: "jk-table" });
    t.append(el("tr", null, ...cols.map((c) => el("th", { text: c[0] }))));
    for (const r of rows) {
      t.append(el("tr", null, ...cols.map((c) => {
        const href = c[3] ? c[3](r) : null;
        return href ? el("td", { class: c[2] || "" }, el("a", { href, text: c[1](r) })) : el("td", { class: c[2] || "", text: c[1](r) });
      })));
    }
    return el("div", { class: "jk-tablebox" }, t);
  }
  function hashOf(patch) {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(patch)) if (v && v !== DEFAULTS[k]) p.set(k, v);
    return "#" + p.toString();
  }
  let plotted = false;
  function overview() {
    const box = el("div", { class: "jk-overview" });
    const nFailed = ROWS.filter((r) => r.st === "failed").length;
    box.append(el("p", { class: "jk-lead", text: `${ROWS.length.toLocaleString("en")} samples from ${D.files.length} results file(s), ${nFailed} failed; rubrics: ${D.rubrics.join(", ")}.` }));
    failureSection(box);
    if (D.summary.length) {
      box.append(el("h2", { text: "Summary: mean score per model and dimension (95% CI, bootstrap over prompts)" }));
      const samplesOf = (r) => hashOf({ view: "samples", rubric: r.rubric, model: r.model, dim: r.dimension === "overall" ? "" : r.dimension, sort: "low" });
      box.append(table([["rubric", (r) => r.rubric], ["model", (r) => r.model, "", samplesOf], ["dimension", (r) => r.dimension], ["n", (r) => fmt(r.n), "jk-num"],
        ["failed", (r) => fmt(r.failed), "jk-num", (r) => (r.failed ? hashOf({ view: "samples", rubric: r.rubric, model: r.model, status: "failed" }) : null)],
        ["mean", (r) => fmt(r.value, 3, true), "jk-num"], ["95% CI", (r) => interval(r, 3), "jk-num"]], D.summary));
      // Where a dimension and overall were scored on different samples, say so under the table.
      for (const r of D.summary.filter((x) => x.note)) box.append(el("p", { class: "jk-muted jk-sumnote", text: `${r.rubric} · ${r.model}: ${r.note}` }));
    }
    // The judge's own noise (--repeats K), beside the score CIs: a model difference smaller than it is not one.
    for (const sec of D.repeats || []) {
      const icc = (r, k) => ci({ value: r[k], ci_low: r[k + "_ci"][0], ci_high: r[k + "_ci"][1] });
      box.append(el("h2", { class: "jk-sec-repeats", text: `Judge repeat agreement: K=${sec.rows[0].k} judgments per sample (ICC one-way random effects, 95% F interval) · ${sec.file}` }));
      box.append(table([["dimension", (r) => r.dimension], ["n", (r) => fmt(r.n), "jk-num"], ["all K agree", (r) => fmt(r.share_agreeing, 3, true), "jk-num"],
        ["mean within-sample SD", (r) => fmt(r.mean_within_sd, 3, true), "jk-num"], ["ICC(1,1)", (r) => icc(r, "icc_1_1"), "jk-num"],
        ["ICC(1,k)", (r) => icc(r, "icc_1_k"), "jk-num"]], sec.rows));
    }
    if (D.wins.length) {
      box.append(el("h2", { text: "Pairwise win rates (95% CI)" }));
      for (const [rubric, title] of Object.entries(D.pair_titles || {})) {
        box.append(el("p", { class: "jk-muted jk-pairline" }, el("b", { text: rubric + ": " }), title.split("\n")[0] + " ",
          el("a", { href: hashOf({ view: "samples", rubric, status: "inconsistent" }), text: "inconsistent pairs" }), " · ",
          el("a", { href: hashOf({ view: "samples", rubric, status: "flipped" }), text: "pairs whose orders disagree" })));
      }
      box.append(table([["rubric", (r) => r.rubric], ["model", (r) => r.model], ["n", (r) => fmt(r.n), "jk-num"], ["W/L/T", (r) => `${r.wins}/${r.losses}/${r.ties}`, "jk-num"],
        ["win rate", (r) => ci(r), "jk-num"]], D.wins));
    }
    if (D.position.length) {
      box.append(table([["rubric", (r) => r.rubric], ["dimension", (r) => r.dimension], ["pairs", (r) => fmt(r.pairs), "jk-num"],
        ["position consistency", (r) => ci(r.consistency), "jk-num"], ["first-shown win rate", (r) => ci(r.first_shown_win_rate), "jk-num"]], D.position));
    }
    if (D.leaderboard) {
      box.append(el("h2", { text: "Leaderboard" }));
      const lbw = [...(D.leaderboard.warnings || [])];
      if (D.leaderboard.degenerate_rounds && !lbw.some((w) => w.includes("bootstrap"))) {
        lbw.push(`${D.leaderboard.degenerate_rounds} bootstrap resamples were degenerate (a model never won or never lost): the CIs are not trustworthy`);
      }
      // The warning sits beside the table whose intervals it explains.
      const lbt = table([["rank", (r) => fmt(r.rank)], ["model", (r) => r.model], ["rating", (r) => ci(r, 1), "jk-num"],
        ["W/L/T", (r) => `${fmt(r.wins)}/${fmt(r.losses)}/${fmt(r.ties)}`, "jk-num"], ["n", (r) => fmt(r.n), "jk-num"]], D.leaderboard.rows);
      box.append(lbw.length ? el("div", { class: "jk-withwarn" }, lbt, el("div", { class: "jk-warn" }, ...lbw.map((w) => el("p", { text: "⚠ " + w })))) : lbt);
    }
    for (const c of D.calibration) {
      box.append(el("h2", { text: "Calibration against human labels" + (c.dimension ? ` (${c.dimension})` : "") + (c.n ? ` · ${c.n} items` : "") }));
      // One row per scorer (the human ceiling first), one column per statistic.
      const statNames = [...new Set(c.stats.map((r) => r.statistic))];
      const scorers = [...new Set(c.stats.map((r) => r.scorer))];
      const cell = (sc, st) => ci(c.stats.find((r) => r.scorer === sc && r.statistic === st));
      box.append(table([["scorer", (sc) => sc], ...statNames.map((st) => [st, (sc) => cell(sc, st), "jk-num"])], scorers));
      for (const w of c.warnings) box.append(el("p", { class: "jk-muted", text: "warning: " + w }));
    }
    methodSections(box);
    let section = "";
    for (const p of D.plots) {
      if (p.section !== section) { section = p.section; box.append(el("h2", { text: "Plots: " + section })); }
      // The box is as tall as the figure: after a resize plotly redraws the width, and the
      // height never changes, so no plot can spill over the next one.
      const h = (p.fig.layout && p.fig.layout.height) || 380;
      box.append(el("div", { class: "jk-plotbox" }, el("div", { class: "jk-plot", id: "plot-" + p.id, "data-plot": p.id, style: `height:${h}px` }),
        p.note ? el("div", { class: "jk-muted", text: p.note }) : null));
    }
    return box;
  }
  function failureSection(box) {
    if (!D.failures || !D.failures.length) return;
    const n = D.failures.reduce((a, f) => a + f.n, 0);
    box.append(el("h2", { class: "jk-sec-failures", text: `Failures by reason (${n})` }));
    box.append(table([["reason", (f) => f.reason, "jk-reason", (f) => hashOf({ view: "samples", status: "failed", why: f.reason })],
      ["n", (f) => fmt(f.n), "jk-num"], ["by model", (f) => Object.entries(f.models).map(([m, k]) => `${m} ${k}`).join(", ")],
      ["rubrics", (f) => f.rubrics.join(", ")]], D.failures));
  }
  // Safety, sampling variance and bias: present only where the results hold them.
  function methodSections(box) {
    const pct = (e) => (e && e.value !== null && e.value !== undefined ? ci(e, 3) : "–");
    const from = (sec) => `${sec.rubric} · ${sec.file}`;
    for (const sec of D.safety || []) {
      box.append(el("h2", { class: "jk-sec-safety", text: `Safety: pass rate per model and category (1 = no such content; 95% Wilson CI) · ${from(sec)}` }));
      if (sec.error) { box.append(el("p", { class: "jk-muted", text: sec.error })); continue; }
      // One row per model, one column per category (overall first).
      const cats = [...new Set(sec.rows.map((r) => r.category))];
      const cell = (m, c) => sec.rows.find((r) => r.model === m && r.category === c);
      box.append(table([["model", (m) => m], ["n", (m) => fmt(cell(m, cats[0]).n), "jk-num"], ["failed", (m) => fmt((sec.failed || {})[m] || 0), "jk-num"],
        ...cats.map((c) => [c, (m) => pct(cell(m, c)), "jk-num"])], [...new Set(sec.rows.map((r) => r.model))]));
      box.append(el("h3", { text: `Flagged samples (${sec.flagged.length})` }));
      // The first few in place; the rest folded, so a long list never pushes the plots away.
      const SHOWN = 8;
      const item = (f) => el("li", null, el("a", { href: "#sample=" + encodeURIComponent(f.u), text: f.sample_id }),
        ` · ${f.model} · prompt ${f.prompt_id || "–"} · `, el("b", { text: f.categories.join(", ") }),
        el("div", { class: "jk-muted jk-why jk-clamp", text: f.categories.map((c) => `${c}: ${f.reasoning[c] || ""}`).join("\n") }));
      const list = el("ul", { class: "jk-flagged" });
      for (const f of sec.flagged.slice(0, SHOWN)) list.append(item(f));
      if (!sec.flagged.length) list.append(el("li", { class: "jk-muted", text: "none" }));
      box.append(list);
      if (sec.flagged.length > SHOWN) {
        const more = el("ul", { class: "jk-flagged" });
        for (const f of sec.flagged.slice(SHOWN)) more.append(item(f));
        box.append(el("details", { class: "jk-more" }, el("summary", { text: `${sec.flagged.length - SHOWN} more flagged samples` }), more));
      }
    }
    for (const sec of D.seeds || []) {
      box.append(el("h2", { class: "jk-sec-seeds", text: `Sampling variance: mean, best and worst of N seeds per prompt (95% CI, bootstrap over prompts) · ${from(sec)}` }));
      if (sec.error) { box.append(el("p", { class: "jk-muted", text: sec.error })); continue; }
      const seeds = (r) => (r.seeds_per_prompt.min === r.seeds_per_prompt.max ? String(r.seeds_per_prompt.min) : `${r.seeds_per_prompt.min}–${r.seeds_per_prompt.max}`);
      box.append(table([["model", (r) => r.model], ["prompts", (r) => fmt(r.n_prompts), "jk-num"], ["seeds", seeds, "jk-num"],
        ["mean of N", (r) => pct(r.mean_of_n), "jk-num"], ["best of N", (r) => pct(r.best_of_n), "jk-num"], ["worst of N", (r) => pct(r.worst_of_n), "jk-num"],
        ["SD across seeds", (r) => pct(r.per_prompt_sd), "jk-num"]], sec.rows));
      box.append(table([["model", (r) => r.model], ...["prompt", "seed", "residual"].map((k) => [`${k} share of variance`, (r) => pct(r.variance_components[k]), "jk-num"]),
        ["seeds for half the CI width", (r) => (r.seeds_needed.seeds === null ? `out of reach with ${r.seeds_needed.n_prompts} prompts` : fmt(r.seeds_needed.seeds)), "jk-num"]], sec.rows));
      if (sec.skipped.length) box.append(el("p", { class: "jk-muted", text: `one seed per prompt, left out: ${sec.skipped.join(", ")}` }));
    }
    for (const sec of D.bias || []) {
      box.append(el("h2", { class: "jk-sec-bias", text: `Bias: perceived attributes per model (shares with 95% CI: ${sec.interval || "bootstrap over prompts"}) · ${from(sec)}` }));
      if (sec.error) { box.append(el("p", { class: "jk-muted", text: sec.error })); continue; }
      // An estimate whose replicates lie off it gets no interval (its note says why), never one that excludes it.
      const est = (e) => pct(e) + (e && e.note ? " (no CI)" : "");
      box.append(table([["model", (r) => r.model], ["attribute", (r) => r.attribute], ["answered / n", (r) => `${r.n_valid} / ${r.n}`, "jk-num"],
        ["shares", (r) => r.shares.map((s) => `${s.group}: ${est(s)}`).join("  ·  "), "jk-shares"],
        ["unclear / no person", (r) => Object.entries(r.other).map(([k, v]) => `${k} ${v}`).join(", ")],
        ["normalised entropy", (r) => est(r.normalized_entropy), "jk-num"], ["KL from uniform", (r) => est(r.kl_divergence), "jk-num"]], sec.rows));
      box.append(el("p", { class: "jk-muted", text: "Perceived attributes judged from appearance, in aggregate: they describe how a model tends to depict a prompt, never who a depicted person is." }));
    }
  }
  // A click on a plot opens the samples behind it: an outlier its sample, a box or a CI point
  // the model's samples (lowest first), a calibration point a search for its item.
  function plotClick(ev) {
    const pt = ev && ev.points && ev.points[0];
    if (!pt) return;
    const cd = pt.customdata, meta = pt.data && pt.data.meta;
    if (typeof cd === "string" && byUid.has(cd)) { setState({ view: "sample", sample: cd }); return; }
    if (cd && typeof cd === "object" && cd.model) { setState({ view: "samples", rubric: cd.rubric, model: cd.model, dim: cd.dim === "overall" ? "" : cd.dim, sort: "low", sample: "" }); return; }
    if (cd && typeof cd === "object" && cd.q) { setState({ view: "samples", q: cd.q, sample: "" }); return; }
    if (meta && meta.model) setState({ view: "samples", rubric: meta.rubric, model: meta.model, dim: pt.x === "overall" ? "" : (pt.x || ""), sort: "low", sample: "" });
  }
  function drawPlots() {
    if (plotted || typeof Plotly === "undefined") return;
    plotted = true;
    for (const p of D.plots) {
      const div = $("plot-" + p.id);
      if (!div) continue;
      const layout = Object.assign({}, p.fig.layout, { autosize: true });
      Plotly.newPlot(div, p.fig.data, layout, { responsive: true, displaylogo: false });
      div.on("plotly_click", plotClick);
    }
  }
  let resizeTimer = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      if (typeof Plotly === "undefined") return;
      for (const div of document.querySelectorAll(".jk-plot.js-plotly-plot")) Plotly.Plots.resize(div);
    }, 100);
  });

  // --- controls ----------------------------------------------------------------------------
  // Built once; a render only syncs their values, and never touches the one being used, so
  // typing, focus and a click on the next box survive every re-render.
  function option(value, label) { return el("option", { value, text: label }); }
  let built = false;
  function buildControls() {
    const bar = $("jk-controls");
    // On a phone the filters fold behind one button, so the header leaves room for the samples.
    bar.append(el("button", { type: "button", id: "jk-filters", onclick: () => bar.classList.toggle("jk-open"), text: "filters ▾" }));
    const sel = (name, opts, label) => {
      const e = el("select", { id: "f-" + name, "aria-label": label, onchange: (ev) => setState({ [name]: ev.target.value }) });
      for (const [v, l] of opts) e.append(option(v, l));
      return el("label", { class: "jk-ctl jk-ctl-" + name }, label + " ", e);
    };
    if (D.rubrics.length > 1) bar.append(sel("rubric", [["", "all"], ...D.rubrics.map((r) => [r, r])], "rubric"));
    bar.append(sel("model", [["", "all"], ...D.models.map((m) => [m, m])], "model"));
    const pairs = D.kinds.includes("pairwise") ? [["inconsistent", "inconsistent pairs"], ["flipped", "orders disagree"]] : [];
    bar.append(sel("status", [["", "all"], ["ok", "ok"], ["failed", "failed"], ...pairs], "status"));
    bar.append(sel("dim", [["", "overall"], ...D.dims.map((d) => [d, d])], "dimension"));
    bar.append(sel("sort", [["order", "file order"], ["low", "lowest-scored first"], ["high", "highest-scored first"], ["disagree", "where models disagree most"],
      ["prompt", "prompt"], ["model", "model"], ["status", "failures first"]], "sort"));
    const num = (name, ph) => el("input", { id: "f-" + name, type: "number", step: "any", placeholder: ph, class: "jk-numin",
      onchange: (ev) => setState({ [name]: ev.target.value }) });
    bar.append(el("label", { class: "jk-ctl jk-ctl-score" }, "score ", num("min", "min"), " – ", num("max", "max")));
    const search = el("input", { id: "f-q", type: "search", placeholder: "search prompts, reasoning, errors, ids…" });
    let timer = null;
    search.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(() => setState({ q: search.value }), 250); });
    bar.append(search);
    bar.append(el("button", { type: "button", id: "b-low", onclick: () => { const s = readState(); setState({ sort: "low", view: s.view === "prompts" ? "prompts" : "samples" }); }, text: "lowest-scored first" }));
    bar.append(el("button", { type: "button", id: "b-disagree", onclick: () => setState({ sort: "disagree", view: "prompts" }), text: "where models disagree most" }));
    bar.append(el("span", { id: "f-why", class: "jk-why-filter", hidden: true }));
    built = true;
  }
  function syncControls(s) {
    if (!built) buildControls();
    for (const name of ["rubric", "model", "status", "dim", "sort", "min", "max", "q"]) {
      const e = $("f-" + name);
      if (e && e !== document.activeElement && e.value !== s[name]) e.value = s[name];
    }
    // A dimension and a score range mean nothing for pairs: hidden while only pairs are shown.
    const onlyPairs = s.rubric ? PAIR_RUBRICS.has(s.rubric) : D.kinds.length === 1 && D.kinds[0] === "pairwise";
    for (const c of document.querySelectorAll(".jk-ctl-dim, .jk-ctl-score")) c.hidden = onlyPairs;
    // The sorts a prompt row cannot take (model, status) are hidden there.
    for (const o of $("f-sort").options) o.hidden = s.view === "prompts" && (o.value === "model" || o.value === "status");
    const why = $("f-why");
    why.hidden = !s.why;
    why.replaceChildren(...(s.why ? ["reason: ", el("b", { text: s.why }), " ", el("button", { type: "button", text: "×", title: "clear", onclick: () => setState({ why: "" }) })] : []));
  }
  // Who judged, in the header: the judge's identity as the results record it.
  function renderJudges() {
    const box = document.getElementById("jk-judges");
    if (!box || !D.judges || !D.judges.length) return;
    const rubric = (r) => `${r.rubric || "?"}` + (r.rubric_version ? ` v${r.rubric_version}` : "") + (r.rubric_hash ? ` #${r.rubric_hash}` : "") +
      Object.entries(r.templates || {}).map(([t, h]) => ` · ${t} #${h}`).join("");
    for (const j of D.judges) {
      const parts = [el("span", {}, el("b", { text: j.backend || j.model || "judge" }), j.endpoint ? ` at ${j.endpoint}` : "")];
      if (j.served) parts.push(`served ${j.served}`);
      if (j.fingerprint) parts.push(`fingerprint ${j.fingerprint}`);
      if (j.temperature !== undefined) parts.push(`temperature ${j.temperature}`);
      if (j.judgekit) parts.push(`judgekit ${j.judgekit}`);
      const line = el("div", { class: "jk-judge" }, "judge: ");
      parts.forEach((p, i) => { if (i) line.append(" · "); line.append(p); });
      line.append(" · rubric " + rubric(j.rubrics[0]));
      if (j.rubrics.length > 1) {
        line.append(" ", el("details", { class: "jk-judges-more" }, el("summary", { text: `+ ${j.rubrics.length - 1} more rubric(s)` }),
          ...j.rubrics.slice(1).map((r) => el("div", { text: "rubric " + rubric(r) }))));
      }
      box.append(line);
    }
  }
  // What the judge used, per served model, in the header: the judge card's usage (judge_card.py),
  // requests and tokens answered in the run and replayed from the cache; cost when priced
  // (a replayed answer's cost is the cost when it was first answered, not charged again).
  function renderUsage() {
    const box = document.getElementById("jk-judges");
    const u = D.judge_card && D.judge_card.usage;
    if (!box || !u || !u.models || !Object.keys(u.models).length) return;
    const usd = (v) => (v === null || v === undefined ? "unknown" : "$" + v.toFixed(6));
    const head = ["served model", "requests", "from cache", "prompt tokens", "cached prompt tokens", "completion tokens"];
    if (u.priced) head.push("cost", "cost when first answered");
    const rows = Object.entries(u.models).map(([sid, b]) => {
      const c = b.charged, k = b.cached;
      const cells = [sid, c.requests + k.requests, k.requests, c.prompt_tokens + k.prompt_tokens,
        c.cached_tokens + k.cached_tokens, c.completion_tokens + k.completion_tokens];
      if (u.priced) cells.push(usd(c.cost_usd), usd(k.cost_usd));
      return el("tr", { "data-served": sid }, ...cells.map((v) => el("td", { text: String(v) })));
    });
    // Collapsed: the header is sticky, and a run may have many served models.
    const books = Object.values(u.models);
    const n = books.reduce((a, b) => a + b.charged.requests + b.cached.requests, 0);
    const costs = books.map((b) => b.charged.cost_usd);
    const cost = !u.priced ? " (no price table: tokens only)"
      : costs.some((v) => v === null) ? ", cost unknown for some model" : `, cost ${usd(costs.reduce((a, v) => a + v, 0))}`;
    box.append(el("details", { class: "jk-usage" }, el("summary", { text: `usage: ${n} requests, ${books.length} served model(s)${cost}` }),
      el("table", { class: "jk-usage-table" }, el("thead", {}, el("tr", {}, ...head.map((h) => el("th", { text: h })))),
        el("tbody", {}, ...rows))));
  }
  function tabs(s) {
    for (const t of document.querySelectorAll(".jk-tab")) {
      t.classList.toggle("jk-active", t.dataset.view === s.view);
    }
  }

  // Scroll positions per view (its URL fragment): Back returns to where the user was.
  const scrollAt = new Map();
  let shownHash = location.hash, navigated = false;
  if ("scrollRestoration" in history) history.scrollRestoration = "manual";
  function render() {
    const s = readState();
    tabs(s);
    syncControls(s);
    $("jk-controls").hidden = s.view === "overview" || s.view === "sample";
    const main = $("jk-main");
    if (s.view === "overview") {
      if (!main.querySelector(".jk-overview")) { main.replaceChildren(overview()); plotted = false; }
      drawPlots();
    } else {
      const parts = s.view === "prompts" ? promptsView(s) : s.view === "sample" ? sampleView(s) : samplesView(s);
      main.replaceChildren(...parts);
    }
    window.scrollTo(0, scrollAt.get(location.hash) || 0);
    shownHash = location.hash;
    // For tests and scripts: how many times the page has rendered.
    document.body.dataset.renders = String((Number(document.body.dataset.renders) || 0) + 1);
  }

  document.querySelectorAll(".jk-tab").forEach((t) => t.addEventListener("click", (ev) => {
    ev.preventDefault();
    setState({ view: t.dataset.view });
  }));
  window.addEventListener("hashchange", (ev) => {
    // Remember where the page was scrolled before it changes view.
    const from = new URL(ev.oldURL).hash;
    scrollAt.set(from, window.scrollY);
    navigated = true;
    render();
  });
  window.addEventListener("scroll", () => { scrollAt.set(shownHash, window.scrollY); }, { passive: true });
  renderJudges();
  renderUsage();
  render();
})();
