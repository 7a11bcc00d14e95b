// The site's one stylesheet, inlined in every page (no request for it, works from file://).
// Light and dark follow prefers-color-scheme; colours keep a contrast of at least 4.5:1 for
// text and 3:1 for chart lines against their background; series differ by dash as well as colour.
export const STYLE = `
:root{color-scheme:light dark;--bg:#ffffff;--fg:#1a1a1a;--muted:#575757;--line:#d0d4da;--soft:#f3f5f8;--link:#0b57d0;--focus:#1d4ed8;
--c-canary:#c2410c;--c-prod:#1d4ed8;--c-good:#15803d;--c-bad:#b91c1c;--c-warn:#a16207;--c-grid:#e3e6ea;--c-s:#c2410c;--c-e:#7e22ce;--c-lup:#0f766e;--c-ldown:#be185d;
--b-green-bg:#dcfce7;--b-green-fg:#14532d;--b-amber-bg:#fef3c7;--b-amber-fg:#713f12;--b-blue-bg:#dbeafe;--b-blue-fg:#1e3a8a;--b-red-bg:#fee2e2;--b-red-fg:#7f1d1d;--b-grey-bg:#e5e7eb;--b-grey-fg:#374151}
@media (prefers-color-scheme:dark){:root{--bg:#111418;--fg:#e7e9ec;--muted:#a9b0b8;--line:#3a4048;--soft:#1b2027;--link:#8ab4f8;--focus:#8ab4f8;
--c-canary:#fb923c;--c-prod:#60a5fa;--c-good:#4ade80;--c-bad:#f87171;--c-warn:#facc15;--c-grid:#2a3038;--c-s:#fb923c;--c-e:#c084fc;--c-lup:#2dd4bf;--c-ldown:#f472b6;
--b-green-bg:#14532d;--b-green-fg:#dcfce7;--b-amber-bg:#713f12;--b-amber-fg:#fef3c7;--b-blue-bg:#1e3a8a;--b-blue-fg:#dbeafe;--b-red-bg:#7f1d1d;--b-red-fg:#fee2e2;--b-grey-bg:#374151;--b-grey-fg:#e5e7eb}}
*{box-sizing:border-box}
html{background:var(--bg);color:var(--fg)}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;background:var(--bg);color:var(--fg)}
a{color:var(--link)}
a:focus-visible,button:focus-visible,summary:focus-visible,[tabindex]:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
code,pre,.hash{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em}
pre{background:var(--soft);border:1px solid var(--line);padding:.75rem;overflow:auto;border-radius:6px}
.skip{position:absolute;left:-10000px;top:0}
.skip:focus{left:.5rem;top:.5rem;background:var(--bg);padding:.5rem;z-index:2}
header.site{border-bottom:1px solid var(--line);background:var(--soft)}
header.site nav{max-width:1200px;margin:0 auto;padding:.6rem 1rem;display:flex;flex-wrap:wrap;gap:.4rem 1.2rem;align-items:baseline}
header.site .brand{font-weight:700;text-decoration:none;color:var(--fg)}
header.site a[aria-current=page]{font-weight:700;text-decoration:none}
main{max-width:1200px;margin:0 auto;padding:1rem}
footer{max-width:1200px;margin:2rem auto 1rem;padding:0 1rem;color:var(--muted);font-size:.85em}
h1{font-size:1.6rem;margin:.6rem 0 .4rem}
h2{font-size:1.25rem;margin:1.8rem 0 .6rem;border-bottom:1px solid var(--line);padding-bottom:.2rem}
h3{font-size:1.05rem;margin:1.2rem 0 .4rem}
.crumbs ol{list-style:none;padding:0;margin:0;display:flex;flex-wrap:wrap;gap:.3rem;color:var(--muted);font-size:.9em}
.crumbs li+li::before{content:"/";margin-right:.3rem}
.muted{color:var(--muted)}
.lead{color:var(--muted);margin-top:0}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:1rem}
.card{border:1px solid var(--line);border-radius:8px;padding:.8rem 1rem;background:var(--bg)}
.card h2,.card h3{margin-top:0;border:0}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:.4rem 0}
dl.facts dt{color:var(--muted)}
dl.facts dd{margin:0;overflow-wrap:anywhere}
.table-wrap{overflow-x:auto;max-width:100%;border:1px solid var(--line);border-radius:6px}
table{border-collapse:collapse;width:100%;font-size:.92em}
caption{text-align:left;padding:.4rem .6rem;color:var(--muted);caption-side:top}
th,td{padding:.35rem .6rem;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
thead th{background:var(--soft);white-space:nowrap}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
tbody tr:hover{background:var(--soft)}
th button.sort{all:unset;cursor:pointer;font-weight:700}
th button.sort::after{content:" \\2195";color:var(--muted);font-weight:400}
th[aria-sort=ascending] button.sort::after{content:" \\25B2";color:var(--fg)}
th[aria-sort=descending] button.sort::after{content:" \\25BC";color:var(--fg)}
th button.sort:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
.badge{display:inline-block;padding:.05rem .5rem;border-radius:999px;font-size:.82em;font-weight:600;white-space:nowrap;background:var(--b-grey-bg);color:var(--b-grey-fg)}
.b-production,.b-promote,.b-good,.b-locked{background:var(--b-green-bg);color:var(--b-green-fg)}
.b-canary,.b-inconclusive,.b-undecided,.b-warning,.b-unchecked{background:var(--b-amber-bg);color:var(--b-amber-fg)}
.b-staging,.b-continue,.b-info{background:var(--b-blue-bg);color:var(--b-blue-fg)}
.b-rollback,.b-bad,.b-critical,.b-modified,.b-missing,.b-revert{background:var(--b-red-bg);color:var(--b-red-fg)}
.notice{border-left:4px solid var(--c-warn);background:var(--soft);padding:.5rem .8rem;margin:.8rem 0}
.notice.error{border-left-color:var(--c-bad)}
.verdict{font-size:1.2rem;font-weight:700}
ul.reasons{margin:.3rem 0 0 1.2rem;padding:0}
figure.chart{margin:1rem 0;border:1px solid var(--line);border-radius:6px;padding:.5rem .6rem;background:var(--bg)}
figure.chart figcaption{font-weight:600}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(460px,1fr));gap:0 1rem}
svg.chart{display:block;width:100%;height:auto;max-width:760px}
svg.chart text{fill:var(--muted);font-size:11px;font-family:system-ui,sans-serif}
svg.chart .grid{stroke:var(--c-grid);stroke-width:1}
svg.chart .axis{stroke:var(--muted);stroke-width:1}
svg.chart .series{fill:none;stroke-width:2}
svg.chart .s-canary{stroke:var(--c-canary);fill:var(--c-canary)}
svg.chart .s-production{stroke:var(--c-prod);fill:var(--c-prod)}
svg.chart .s-S{stroke:var(--c-s);fill:var(--c-s)}
svg.chart .s-E{stroke:var(--c-e);fill:var(--c-e)}
svg.chart .s-Lup{stroke:var(--c-lup);fill:var(--c-lup)}
svg.chart .s-Ldown{stroke:var(--c-ldown);fill:var(--c-ldown)}
svg.chart .s-metric{stroke:var(--c-prod);fill:var(--c-prod)}
svg.chart path.series{fill:none}
svg.chart .h-promote{stroke:var(--c-good);stroke-width:1.5;stroke-dasharray:6 4}
svg.chart .h-rollback{stroke:var(--c-bad);stroke-width:1.5;stroke-dasharray:2 3}
svg.chart .h-neutral{stroke:var(--muted);stroke-width:1}
svg.chart text.h-promote{fill:var(--c-good);stroke:none}
svg.chart text.h-rollback{fill:var(--c-bad);stroke:none}
svg.chart .bar-success{fill:var(--c-good)}
svg.chart .bar-failure{fill:var(--c-warn)}
svg.chart .bar-error{fill:var(--c-bad)}
svg.chart .bar-rows{fill:var(--c-prod)}
.legend{display:flex;flex-wrap:wrap;gap:.3rem 1rem;margin:.3rem 0 0;padding:0;list-style:none;font-size:.88em;color:var(--muted)}
.legend svg.swatch{display:inline-block;vertical-align:middle;width:26px;height:10px;max-width:none}
time{white-space:nowrap}
details.data{margin-top:.3rem}
details.data summary{cursor:pointer;color:var(--link)}
.sr-only{position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0,0,0,0);white-space:nowrap;border:0}
`;
