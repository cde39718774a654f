"""The pack's CSS: a readable page on screen, and A4 on paper.

Printed, each part of the meeting starts a new sheet; headings stay with what follows them,
a table row is never split across sheets and a long table repeats its heading row on each
sheet. The charts shrink to the printable width (A4 less 15 mm margins, about 680 CSS px).
"""

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1b1b1b; max-width: 60rem; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2rem; }
h3 { font-size: 1.05rem; margin-top: 1.5rem; }
p { color: #505a5f; } .restricted { color: #1b1b1b; border: 2px solid #1b1b1b; padding: 0.5rem; }
figure { margin: 0; } svg { max-width: 100%; height: auto; }
svg text { font-size: 13px; fill: #1b1b1b; } svg .tick { fill: #505a5f; }
.bar { fill: #1d70b8; } .grid { stroke: #dddddd; } .line { stroke: #d4351c; stroke-width: 2; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; width: 100%; }
caption { text-align: left; font-weight: 600; padding-bottom: 0.3rem; }
th, td { border-bottom: 1px solid #b1b4b6; padding: 0.25rem 0.5rem; text-align: left;
  vertical-align: top; }
td.number, th.number { text-align: right; }
td ul { margin: 0; padding-left: 1rem; }
dl { display: grid; grid-template-columns: max-content auto; gap: 0.2rem 1rem; }
dt { font-weight: 600; } dd { margin: 0; }
table.actions td { height: 2.6rem; border: 1px solid #505a5f; }
table.actions th { border: 1px solid #505a5f; }
@page { size: A4; margin: 15mm; }
@media print {
  body { margin: 0; max-width: none; font-size: 10.5pt; }
  section.part { break-before: page; }
  h2, h3, caption { break-after: avoid; }
  thead { display: table-header-group; }
  tr, figure svg, dl { break-inside: avoid; }
  details > summary { display: none; }
}
"""
