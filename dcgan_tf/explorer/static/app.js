// The explorer's page: plain JavaScript, no build step, no network but this server.
// The page holds every latent; the server draws what it is sent. A page
// written by `explore --static` has no server: its api/info (a file there)
// says so, and local.js's engine answers the same requests in the browser.
"use strict";

const state = {
  info: null,
  seed: 0,
  fromSeed: true, // the samples are exactly draws 0..n-1 of state.seed
  samples: [], // {z, label, img}
  picks: [], // sample indices, in order
  groups: { A: [], B: [], C: [] },
  directions: [], // {name, vector, amount, range}
  walk: null, // {latents, classes, images}
  frame: 0,
  timer: null,
  arith: null,
  moved: null,
  moving: false,
  movePending: false,
};
const COLUMNS = 8;
const $ = (id) => document.getElementById(id);
let engine = null; // LocalEngine's, on a page written by --static

function showError(message) {
  $("error-text").textContent = message;
  $("error").hidden = false;
}
$("error-close").onclick = () => { $("error").hidden = true; };

let busyCount = 0;
function busy(on) {
  busyCount += on ? 1 : -1;
  $("busy").hidden = busyCount <= 0;
}

async function errorOf(response) {
  try {
    const data = await response.json();
    return data.error || `${response.status} ${response.statusText}`;
  } catch (e) {
    return `${response.status} ${response.statusText}`;
  }
}

async function api(path, body, options = {}) {
  const init = body instanceof FormData
    ? { method: "POST", body }
    : body === undefined ? {} : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
  if (!options.quiet) busy(true);
  try {
    if (engine) return await engine.answer(path, body);
    const response = await fetch(path, init);
    if (!response.ok) throw new Error(await errorOf(response));
    return await response.json();
  } finally {
    if (!options.quiet) busy(false);
  }
}

// Runs an action, showing its error on the page instead of losing it.
function guarded(action) {
  return async (...args) => {
    try {
      $("error").hidden = true;
      await action(...args);
    } catch (error) {
      showError(error.message);
    }
  };
}

async function download(path, body, name) {
  busy(true);
  try {
    let blob;
    if (engine) {
      blob = await engine.download(path, body);
    } else {
      const response = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
      if (!response.ok) throw new Error(await errorOf(response));
      blob = await response.blob();
    }
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = name;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60000);
  } finally {
    busy(false);
  }
}

function conditional() { return !!(state.info && state.info.class_names); }
function labelsOf(items) { return conditional() ? items.map((s) => s.label) : null; }
function scale() { return Math.max(1, Math.ceil(84 / state.info.image_shape[0])); }

function classOptions(select, withAuto) {
  select.innerHTML = "";
  if (withAuto) select.add(new Option("auto", "auto"));
  state.info.class_names.forEach((name, i) => select.add(new Option(`${i} ${name}`, i)));
}

function picked() { return state.picks.map((i) => state.samples[i]); }

// ---------------------------------------------------------------- samples
function renderGrid() {
  const grid = $("grid");
  grid.innerHTML = "";
  const side = state.info.image_shape[0] * scale();
  state.samples.forEach((sample, index) => {
    const tile = document.createElement("div");
    tile.className = "tile" + (state.picks.includes(index) ? " picked" : "");
    tile.dataset.index = index;
    const img = document.createElement("img");
    img.src = sample.img;
    img.width = img.height = side;
    img.alt = `sample ${index}`;
    tile.appendChild(img);
    const badges = document.createElement("div");
    badges.className = "badges";
    const order = state.picks.indexOf(index);
    if (order >= 0) badges.insertAdjacentHTML("beforeend", `<span class="badge">${order + 1}</span>`);
    for (const g of ["A", "B", "C"]) {
      if (state.groups[g].includes(index)) badges.insertAdjacentHTML("beforeend", `<span class="badge ${g}">${g}</span>`);
    }
    tile.appendChild(badges);
    const caption = document.createElement("div");
    caption.className = "index";
    caption.textContent = `#${index}`;
    tile.appendChild(caption);
    tile.onclick = (event) => { if (event.target.tagName !== "SELECT") toggle(index); };
    if (conditional()) {
      const select = document.createElement("select");
      classOptions(select, false);
      select.value = sample.label;
      select.onchange = guarded(async () => {
        const data = await api("/api/render", { latents: [sample.z], labels: [Number(select.value)] });
        sample.label = Number(select.value);
        sample.img = data.images[0];
        renderGrid();
      });
      tile.appendChild(select);
    }
    grid.appendChild(tile);
  });
  renderGroups();
}

function toggle(index) {
  const mode = document.querySelector("input[name=mode]:checked").value;
  const list = mode === "pick" ? state.picks : state.groups[mode];
  const at = list.indexOf(index);
  if (at >= 0) list.splice(at, 1); else list.push(index);
  renderGrid();
  if (mode === "pick") requestMove();
}

function renderGroups() {
  for (const g of ["A", "B", "C"]) {
    const strip = $(`group-${g}`);
    strip.innerHTML = "";
    for (const i of state.groups[g]) {
      const img = document.createElement("img");
      img.src = state.samples[i].img;
      img.title = `#${i}`;
      strip.appendChild(img);
    }
  }
}

async function draw(offset) {
  const seed = Number($("seed").value);
  const count = Number($("count").value);
  const data = await api("/api/sample", { seed, count, offset });
  const drawn = data.latents.map((z, i) => ({ z, label: data.labels ? data.labels[i] : null, img: data.images[i] }));
  if (offset === 0) {
    state.samples = drawn;
    state.picks = [];
    state.groups = { A: [], B: [], C: [] };
    state.seed = seed;
    state.fromSeed = true;
  } else {
    if (seed !== state.seed) state.fromSeed = false;
    state.samples = state.samples.concat(drawn);
  }
  renderGrid();
  requestMove();
}

$("draw").onclick = guarded(() => draw(0));
$("new-seed").onclick = guarded(() => {
  $("seed").value = Math.floor(Math.random() * 1e6);
  return draw(0);
});
$("more").onclick = guarded(() => draw(state.fromSeed && Number($("seed").value) === state.seed ? state.samples.length : 0));
$("clear").onclick = () => {
  state.picks = [];
  state.groups = { A: [], B: [], C: [] };
  renderGrid();
  requestMove();
};

function addSamples(latents, labels, images) {
  const start = state.samples.length;
  latents.forEach((z, i) => state.samples.push({ z, label: labels ? labels[i] : null, img: images[i] }));
  state.fromSeed = false;
  renderGrid();
  return start;
}

function samplesBody(items) {
  return { latents: items.map((s) => s.z), labels: labelsOf(items) };
}

$("download-png").onclick = guarded(() =>
  download("/api/export/png", { ...samplesBody(state.samples), columns: COLUMNS }, "samples.png"));
$("download-npz").onclick = guarded(() =>
  download("/api/export/npz", { ...samplesBody(state.samples), columns: COLUMNS, seed: state.fromSeed ? state.seed : null }, "samples.npz"));
$("download-picks-npz").onclick = guarded(() => {
  if (!state.picks.length) throw new Error("Pick samples first.");
  return download("/api/export/npz", { ...samplesBody(picked()), columns: state.picks.length }, "picks.npz");
});

// ------------------------------------------------------------------- walk
function showWalk(data) {
  stopWalk();
  state.walk = data;
  state.frame = 0;
  $("walk-view").hidden = false;
  const strip = $("walk-strip");
  strip.innerHTML = "";
  data.images.forEach((src, i) => {
    const img = document.createElement("img");
    img.src = src;
    img.title = `frame ${i}`;
    img.onclick = () => { stopWalk(); showFrame(i); };
    strip.appendChild(img);
  });
  showFrame(0);
  playWalk();
}

function showFrame(i) {
  state.frame = i;
  $("walk-frame").src = state.walk.images[i];
  [...$("walk-strip").children].forEach((img, j) => img.classList.toggle("current", j === i));
}

// Frames in playing order: forth and back, or round and round for a loop.
function playOrder() {
  const n = state.walk.images.length;
  const forth = [...Array(n).keys()];
  return state.walk.loop ? forth : forth.concat(forth.slice(1, -1).reverse());
}

function playWalk() {
  const order = playOrder();
  let at = 0;
  const fps = Math.min(60, Math.max(1, Number($("fps").value) || 10));
  state.timer = setInterval(() => { at = (at + 1) % order.length; showFrame(order[at]); }, 1000 / fps);
  $("play").textContent = "Pause";
}

function stopWalk() {
  if (state.timer) clearInterval(state.timer);
  state.timer = null;
  $("play").textContent = "Play";
}

$("play").onclick = () => { if (!state.walk) return; if (state.timer) stopWalk(); else playWalk(); };

$("walk").onclick = guarded(async () => {
  if (state.picks.length < 2) throw new Error("Pick two or more samples to walk between.");
  const loop = $("loop").checked;
  const data = await api("/api/walk", {
    ...samplesBody(picked()),
    steps: Number($("steps").value),
    method: $("method").value,
    loop,
  });
  showWalk({ ...data, loop });
});

$("class-walk").onclick = guarded(async () => {
  if (!state.picks.length) throw new Error("Pick a sample whose class to walk.");
  const data = await api("/api/class-walk", {
    latents: [picked()[0].z],
    from: Number($("class-from").value),
    to: Number($("class-to").value),
    steps: Number($("steps").value),
  });
  showWalk({ ...data, loop: false });
});

function walkBody() {
  if (!state.walk) throw new Error("Walk first: pick samples and press Walk.");
  return { latents: state.walk.latents, classes: state.walk.classes };
}

$("download-gif").onclick = guarded(() => {
  const body = walkBody();
  const order = playOrder();
  const fps = Math.min(50, Math.max(1, Number($("fps").value) || 10));
  return download("/api/export/gif", {
    latents: order.map((i) => body.latents[i]),
    classes: body.classes ? order.map((i) => body.classes[i]) : null,
    seconds_per_frame: 1 / fps,
  }, "walk.gif");
});
$("download-walk-npz").onclick = guarded(() =>
  download("/api/export/npz", { ...walkBody(), columns: Math.min(64, state.walk.latents.length) }, "walk.npz"));

// ------------------------------------------------------------- arithmetic
function figure(src, caption) {
  const f = document.createElement("figure");
  f.innerHTML = `<img src="${src}" alt="${caption}"><figcaption>${caption}</figcaption>`;
  return f;
}

function op(text) {
  const span = document.createElement("span");
  span.className = "op";
  span.textContent = text;
  return span;
}

$("arithmetic").onclick = guarded(async () => {
  for (const g of ["A", "B", "C"]) {
    if (!state.groups[g].length) throw new Error(`Group ${g} is empty: choose "${g}" above the samples and click some.`);
  }
  const z = (g) => state.groups[g].map((i) => state.samples[i].z);
  const body = { a: z("A"), b: z("B"), c: z("C"), count: Number($("arith-count").value), noise: Number($("arith-noise").value) };
  if (conditional()) body.label = Number($("arith-class").value);
  const data = await api("/api/arithmetic", body);
  state.arith = data;
  const out = $("arith-result");
  out.innerHTML = "";
  out.append(figure(data.mean_images[0], "mean A"), op("−"), figure(data.mean_images[1], "mean B"), op("+"),
    figure(data.mean_images[2], "mean C"), op("="));
  data.images.forEach((src, i) => out.append(figure(src, i === 0 ? "A − B + C" : `perturbed ${i}`)));
});

$("arith-keep").onclick = guarded(() => {
  if (!state.arith) throw new Error("Compute A − B + C first.");
  addSamples(state.arith.latents, state.arith.labels, state.arith.images);
});

// ------------------------------------------------------------- directions
function renderSliders() {
  const box = $("sliders");
  box.innerHTML = "";
  state.directions.forEach((d, k) => {
    const row = document.createElement("div");
    row.className = "slider";
    row.innerHTML = `<label>${d.name}</label><input type="range" min="${-d.range}" max="${d.range}" step="0.05" value="${d.amount}" aria-label="${d.name}"><output>${d.amount.toFixed(2)}</output><button title="Remove">×</button>`;
    const input = row.querySelector("input");
    input.oninput = () => {
      d.amount = Number(input.value);
      row.querySelector("output").textContent = d.amount.toFixed(2);
      requestMove();
    };
    row.querySelector("button").onclick = () => { state.directions.splice(k, 1); renderSliders(); requestMove(); };
    box.appendChild(row);
  });
}

$("pca").onclick = guarded(async () => {
  const data = await api("/api/directions");
  state.directions = state.directions.filter((d) => !d.name.startsWith("PC"));
  data.directions.forEach((vector, k) => state.directions.push({
    name: `PC${k + 1} (${(100 * data.explained[k]).toFixed(1)} %)`, vector, amount: 0, range: 3,
  }));
  renderSliders();
});

$("user-direction").onclick = guarded(async () => {
  if (!state.groups.A.length || !state.groups.B.length) throw new Error("Put samples in groups A and B first.");
  const z = (g) => state.groups[g].map((i) => state.samples[i].z);
  const data = await api("/api/direction", { positive: z("A"), negative: z("B") });
  const n = state.directions.filter((d) => d.name.startsWith("A − B")).length + 1;
  state.directions.push({ name: `A − B #${n}`, vector: data.direction, amount: 0, range: 2 });
  renderSliders();
});

$("reset-sliders").onclick = () => { state.directions.forEach((d) => { d.amount = 0; }); renderSliders(); requestMove(); };

// One request in flight; a move made meanwhile is sent when it returns.
async function requestMove() {
  const active = state.directions.filter((d) => d.amount !== 0);
  if (!state.picks.length || !state.directions.length) {
    $("moved").innerHTML = state.directions.length ? "<span class='hint'>Pick samples to move them.</span>" : "";
    state.moved = null;
    return;
  }
  if (state.moving) { state.movePending = true; return; }
  state.moving = true;
  const started = performance.now();
  const directions = active.length ? active : [state.directions[0]];
  try {
    const data = await api("/api/move", {
      ...samplesBody(picked()),
      directions: directions.map((d) => d.vector),
      amounts: directions.map((d) => (active.length ? d.amount : 0)),
    }, { quiet: true });
    state.moved = data;
    const strip = $("moved");
    strip.innerHTML = "";
    data.images.forEach((src, i) => {
      const img = document.createElement("img");
      img.src = src;
      img.alt = `moved pick ${i + 1}`;
      strip.appendChild(img);
    });
    $("latency").textContent = `redrawn in ${Math.round(performance.now() - started)} ms (server ${data.ms} ms)`;
  } catch (error) {
    showError(error.message);
  } finally {
    state.moving = false;
    if (state.movePending) { state.movePending = false; requestMove(); }
  }
}

$("apply-move").onclick = () => {
  if (!state.moved) return showError("Move picks with a slider first.");
  state.picks.forEach((index, i) => {
    state.samples[index].z = state.moved.latents[i];
    state.samples[index].img = state.moved.images[i];
  });
  state.fromSeed = false;
  state.directions.forEach((d) => { d.amount = 0; });
  renderSliders();
  renderGrid();
  requestMove();
};

// ---------------------------------------------------------------- project
$("project").onclick = guarded(async () => {
  const file = $("upload").files[0];
  if (!file) throw new Error("Choose an image file to project.");
  const form = new FormData();
  form.append("image", file);
  form.append("distance", $("distance").value);
  form.append("steps", $("project-steps").value);
  if (conditional()) form.append("label", $("project-class").value);
  const data = await api("/api/project", form);
  const index = addSamples(data.latents, data.labels, data.images);
  state.picks.push(index);
  renderGrid();
  const out = $("project-result");
  out.innerHTML = "";
  let text = `pixel RMSE ${data.pixel_rmse.toFixed(1)} grey levels`;
  if (data.feature_distance !== null) text += `, feature distance ${data.feature_distance.toFixed(3)}`;
  out.append(figure(data.target, "your image"), op("→"), figure(data.images[0], `sample #${index}`));
  const note = document.createElement("span");
  note.id = "project-distance";
  note.textContent = `${text}; added to the samples as #${index} and picked.`;
  out.append(note);
  requestMove();
});

// ------------------------------------------------------------------ start
function showStatic(info) {
  // What needs the server is hidden, with the reason on the page.
  for (const id of ["project-section", "download-gif", "download-walk-npz", "download-npz", "download-picks-npz"]) $(id).hidden = true;
  $("static-note").hidden = false;
  info.backend = `onnxruntime-web ${info.onnxruntime_web} in this browser`;
}

guarded(async () => {
  if (location.protocol === "file:") {
    throw new Error("This page cannot run from a file: serve its folder (python -m http.server -d FOLDER) and open the address that prints.");
  }
  // Relative, so that a page written by --static finds its own api/info file.
  const info = await api("api/info");
  if (info.static) {
    showStatic(info);
    engine = await LocalEngine.start(info);
  }
  state.info = info;
  const [h, w, c] = info.image_shape;
  const classes = info.class_names ? `, ${info.class_names.length} classes` : "";
  $("info").textContent = `${info.name}: z of ${info.latent_dim} (${info.latent_distribution}) → ${h}×${w}×${c}${classes}` +
    (info.dataset ? `, ${info.dataset}` : "") + ` · ${info.backend}`;
  if (!info.features) {
    $("distance").options[1].disabled = true;
    $("distance").options[1].textContent += " (no classifier for this data set)";
  }
  if (conditional()) {
    $("class-walk-controls").hidden = false;
    $("arith-class-label").hidden = false;
    $("project-class-label").hidden = false;
    classOptions($("class-from"), false);
    classOptions($("class-to"), false);
    $("class-to").value = Math.min(1, info.class_names.length - 1);
    classOptions($("arith-class"), false);
    classOptions($("project-class"), true);
  }
  if (info.seed !== null) $("seed").value = info.seed;
  await draw(0);
})();
