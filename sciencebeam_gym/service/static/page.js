// The page at /: send a PDF to /api/view, draw each page with the model's paint over it, list
// the fields beside it, and light up a field's words on the page while it is hovered.
// Plain JavaScript, no build step, nothing fetched from elsewhere.
"use strict";

const $ = (selector) => document.querySelector(selector);
let jatsUrl = null;

function element(tag, attributes = {}, text = "") {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text) node.textContent = text;
  return node;
}

function setStatus(text, isError = false) {
  const status = $("#status");
  status.textContent = text;
  status.classList.toggle("error", isError);
}

async function send(file) {
  if (!file) return;
  const pages = $("#page-range").value.trim();
  const url = "/api/view" + (pages ? "?pages=" + encodeURIComponent(pages) : "");
  setStatus(`Reading ${file.name} ...`);
  $("#result").hidden = true;
  let response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/pdf" },
      body: file,
    });
  } catch (error) {
    setStatus(`The server did not answer: ${error}`, true);
    return;
  }
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    const why = answer.reason ? `${answer.reason}: ${answer.detail}` : response.statusText;
    const wait = response.headers.get("Retry-After");
    setStatus(`${response.status} ${why}${wait ? ` (try again in ${wait} s)` : ""}`, true);
    return;
  }
  show(answer, file.name, response.headers.get("Server-Timing"));
  setStatus(`${file.name}: ${answer.pages.length} page(s)`);
}

function show(view, name, timing) {
  drawPages(view.pages);
  drawLegend(view.legend);
  drawFields(view.article, view.boxes);
  if (jatsUrl) URL.revokeObjectURL(jatsUrl);
  jatsUrl = URL.createObjectURL(new Blob([view.jats], { type: "application/xml" }));
  const link = $("#download-jats");
  link.href = jatsUrl;
  link.download = name.replace(/\.pdf$/i, "") + ".xml";
  $("#timings").textContent = timing ? describeTiming(timing) : "";
  $("#result").hidden = false;
}

function describeTiming(header) {
  const parts = header.split(",").map((part) => {
    const [name, duration] = part.trim().split(";dur=");
    return `${name} ${(Number(duration) / 1000).toFixed(2)} s`;
  });
  return parts.join(" · ");
}

function drawPages(pages) {
  const holder = $("#pages");
  holder.replaceChildren();
  for (const page of pages) {
    const box = element("div", { class: "page", id: `page-${page.number}` });
    box.dataset.width = page.width;
    box.dataset.height = page.height;
    box.append(
      element("img", { class: "render", src: page.image, alt: `page ${page.number}` }),
      element("img", { class: "paint", src: page.paint, alt: `the model's paint of page ${page.number}` }),
      element("span", { class: "number" }, `page ${page.number}`),
    );
    holder.append(box);
  }
}

function drawLegend(legend) {
  const list = $("#legend");
  list.replaceChildren();
  for (const entry of legend) {
    const item = element("li");
    const swatch = element("span", { class: "swatch" });
    swatch.style.background = entry.color;
    item.append(swatch, entry.label.replaceAll("_", " "));
    list.append(item);
  }
}

// A field's element: its text, and its words lit on the pages while hovered or focused.
function field(tag, text, boxes, className = "") {
  const node = element(tag, { class: `field ${className}`.trim() }, text);
  const lit = boxes && boxes.length > 0;
  node.classList.add(lit ? "has-words" : "no-words");
  if (lit) {
    node.tabIndex = 0;
    node.addEventListener("mouseenter", () => highlight(boxes));
    node.addEventListener("focus", () => highlight(boxes));
    node.addEventListener("mouseleave", clearHighlights);
    node.addEventListener("blur", clearHighlights);
    node.addEventListener("click", () => scrollToBox(boxes[0]));
  }
  return node;
}

function clearHighlights() {
  document.querySelectorAll(".highlight").forEach((node) => node.remove());
}

function highlight(boxes) {
  clearHighlights();
  for (const [number, x0, top, x1, bottom] of boxes) {
    const page = $(`#page-${number}`);
    if (!page) continue;
    const width = Number(page.dataset.width);
    const height = Number(page.dataset.height);
    const mark = element("div", { class: "highlight" });
    mark.style.left = `${(100 * x0) / width}%`;
    mark.style.top = `${(100 * top) / height}%`;
    mark.style.width = `${(100 * (x1 - x0)) / width}%`;
    mark.style.height = `${(100 * (bottom - top)) / height}%`;
    page.append(mark);
  }
}

function scrollToBox(box) {
  const page = $(`#page-${box[0]}`);
  if (page) page.scrollIntoView({ behavior: "smooth", block: "start" });
}

function heading(text) {
  return element("h2", {}, text);
}

function listOf(items, boxes, describe, tag = "ol") {
  if (!items.length) return element("p", { class: "empty" }, "none found");
  const list = element(tag);
  items.forEach((item, index) => {
    const li = element("li");
    li.append(field("span", describe(item), boxes[index] || []));
    list.append(li);
  });
  return list;
}

function drawFields(article, boxes) {
  const holder = $("#fields");
  holder.replaceChildren();
  holder.append(heading("Title"), field("div", article.title || "none found", boxes.title, "title"));
  holder.append(heading("Authors"), listOf(article.authors, boxes.authors, (a) => a.text));
  holder.append(heading("Affiliations"), listOf(article.affiliations, boxes.affiliations,
    (a) => (a.label ? `${a.label} ` : "") + a.text));
  holder.append(heading("Abstract"), field("p", article.abstract || "none found", boxes.abstract));
  if (article.keywords.length) {
    holder.append(heading("Keywords"), listOf(article.keywords, boxes.keywords, (k) => k, "ul"));
  }
  holder.append(heading("Sections"));
  if (!article.sections.length) holder.append(element("p", { class: "empty" }, "none found"));
  article.sections.forEach((section, index) => {
    const found = boxes.sections[index] || { title: [], paragraphs: [] };
    holder.append(field("div", section.title || "(untitled)", found.title, "section-title"));
    section.paragraphs.forEach((text, p) => holder.append(field("p", text, found.paragraphs[p])));
  });
  holder.append(heading("References"), listOf(article.references, boxes.references, (r) => r));
  for (const warning of article.warnings) holder.append(element("p", { class: "warning" }, warning));
}

function setUp() {
  const drop = $("#drop");
  $("#file").addEventListener("change", (event) => send(event.target.files[0]));
  drop.addEventListener("dragover", (event) => {
    event.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    send(event.dataTransfer.files[0]);
  });
  drop.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") $("#file").click();
  });
  $("#opacity").addEventListener("input", (event) => {
    document.documentElement.style.setProperty("--paint-opacity", event.target.value / 100);
  });
}

setUp();
