/*
 * Draws the guide's ```mermaid diagrams with the bundled mermaid.min.js (mermaid 11.17.2,
 * MIT licence in mermaid.LICENSE.txt), so the pictures work offline and in CI - nothing is
 * fetched from a CDN.
 *
 * The mermaid fence in mkdocs.yml emits <div class="mermaid">source</div>. Each diagram is
 * drawn into its div (an <svg>), and drawn again in the other colours when the reader toggles
 * the light/dark palette. `document$` is the theme's "a page was shown" signal, so this also
 * works with instant navigation.
 */
(function () {
  "use strict";

  var queue = Promise.resolve(); // one drawing pass at a time: passes never interleave
  var drawn = 0; // mermaid needs a unique id per render
  var lastTheme = null;

  function mermaidTheme() {
    var scheme = document.body.getAttribute("data-md-color-scheme");
    return scheme === "slate" ? "dark" : "default";
  }

  async function drawAll() {
    var blocks = document.querySelectorAll("div.mermaid");
    if (blocks.length === 0) {
      return;
    }
    lastTheme = mermaidTheme();
    mermaid.initialize({ startOnLoad: false, theme: lastTheme, securityLevel: "strict" });
    for (var i = 0; i < blocks.length; i++) {
      var block = blocks[i];
      // The source is kept on the block, so a palette toggle can draw it again.
      if (block.dataset.source === undefined) {
        block.dataset.source = block.textContent;
      }
      drawn += 1;
      try {
        var result = await mermaid.render("guide-diagram-" + drawn, block.dataset.source);
        block.innerHTML = result.svg;
        if (result.bindFunctions) {
          result.bindFunctions(block);
        }
      } catch (error) {
        console.error("mermaid could not draw a diagram:", error);
      }
    }
  }

  function draw() {
    queue = queue.then(drawAll, drawAll);
  }

  document$.subscribe(draw);
  new MutationObserver(function () {
    if (mermaidTheme() !== lastTheme) {
      draw();
    }
  }).observe(document.body, { attributes: true, attributeFilter: ["data-md-color-scheme"] });
})();
