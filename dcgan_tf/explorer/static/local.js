// The explorer's engine in the browser, for a page written by
// `python -m dcgan_tf.explore RUN --static DIR`: it answers the page's /api
// requests itself, running the ONNX generator with onnxruntime-web (its
// WebAssembly build, in static/ort/). The live page loads this file too and
// never calls it. Latents from a seed come from a small seeded generator
// (mulberry32, normal by Box-Muller), so they differ from the live page's.
"use strict";

const LocalEngine = (() => {
  const FORWARD_BATCH = 64; // as the server's engine (engine.FORWARD_BATCH)
  const MAX_ABS_LATENT = 1e3;

  function loadScript(src) {
    return new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = src;
      script.onload = resolve;
      script.onerror = () => reject(new Error(`Could not load ${src}.`));
      document.head.appendChild(script);
    });
  }

  // mulberry32 (Tommy Ettinger, public domain): 32-bit state, uniform in [0, 1).
  function uniforms(seed) {
    let a = seed >>> 0;
    return () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  // Box-Muller: one standard normal from two uniforms (1 - u avoids log(0)).
  function normals(seed) {
    const next = uniforms(seed);
    return () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  }

  const oneHot = (label, k) => Array.from({ length: k }, (_, i) => (i === label ? 1 : 0));
  const lerp = (a, b, t) => a.map((x, i) => (1 - t) * x + t * b[i]);
  const dot = (a, b) => a.reduce((s, x, i) => s + x * b[i], 0);
  const mean = (rows) => rows[0].map((_, j) => rows.reduce((s, r) => s + r[j], 0) / rows.length);

  // As dcgan_tf.sampling.latents.slerp: the straight line where the two are parallel.
  function slerp(a, b, t) {
    const norms = Math.sqrt(dot(a, a)) * Math.sqrt(dot(b, b));
    if (!(norms > 0)) return lerp(a, b, t);
    const angle = Math.acos(Math.min(1, Math.max(-1, dot(a, b) / norms)));
    const sine = Math.sin(angle);
    if (!(sine > 1e-6)) return lerp(a, b, t);
    const p = Math.sin((1 - t) * angle) / sine, q = Math.sin(t * angle) / sine;
    return a.map((x, i) => p * x + q * b[i]);
  }

  // As Explorer.walk: one continuous sequence through the keyframes.
  function walkPath(ends, steps, path, loop) {
    const segments = loop ? ends.length : ends.length - 1;
    const frames = [];
    for (let s = 0; s < segments; s++) {
      for (let j = s === 0 ? 0 : 1; j < steps; j++) {
        frames.push(path(ends[s], ends[(s + 1) % ends.length], j / (steps - 1)));
      }
    }
    return loop ? frames.slice(0, -1) : frames;
  }

  async function start(info) {
    const base = new URL("static/ort/", location.href).href;
    await loadScript(base + "ort.wasm.min.js");
    const ort = window.ort;
    ort.env.wasm.wasmPaths = { mjs: base + "ort-wasm-simd-threaded.mjs", wasm: base + "ort-wasm-simd-threaded.wasm" };
    // Threads need SharedArrayBuffer, which only a cross-origin isolated page
    // has (COOP/COEP headers, which static hosts do not send).
    ort.env.wasm.numThreads = self.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
    const session = await ort.InferenceSession.create(new URL(info.model, location.href).href, { executionProviders: ["wasm"] });
    const [h, w, c] = info.image_shape;
    const d = info.latent_dim;
    const k = info.class_names ? info.class_names.length : 0;
    const canvas = document.createElement("canvas");
    canvas.width = w;
    canvas.height = h;
    const context = canvas.getContext("2d");

    function classesOf(labels, count) {
      return Array.from({ length: count }, (_, i) => oneHot(labels ? labels[i] : 0, k));
    }

    function dataUrl(pixels, offset) {
      const image = context.createImageData(w, h);
      for (let p = 0; p < h * w; p++) {
        for (let ch = 0; ch < 3; ch++) {
          const x = pixels[offset + p * c + (c === 1 ? 0 : ch)];
          // as sampling.images.to_uint8: [-1, 1] -> [0, 255]
          image.data[4 * p + ch] = Math.min(255, Math.max(0, Math.round((x + 1) * 127.5)));
        }
        image.data[4 * p + 3] = 255;
      }
      context.putImageData(image, 0, 0);
      return canvas.toDataURL("image/png");
    }

    async function render(latents, classes) {
      const images = [];
      for (let i = 0; i < latents.length; i += FORWARD_BATCH) {
        const part = latents.slice(i, i + FORWARD_BATCH);
        const feeds = { [session.inputNames[0]]: new ort.Tensor("float32", Float32Array.from(part.flat()), [part.length, d]) };
        if (k) {
          const mix = (classes || classesOf(null, latents.length)).slice(i, i + FORWARD_BATCH);
          feeds[session.inputNames[1]] = new ort.Tensor("float32", Float32Array.from(mix.flat()), [part.length, k]);
        }
        const output = (await session.run(feeds))[session.outputNames[0]];
        for (let j = 0; j < part.length; j++) images.push(dataUrl(output.data, j * h * w * c));
        output.dispose?.();
      }
      return images;
    }

    function sample(seed, count, offset) {
      const next = info.latent_distribution === "uniform"
        ? ((u) => () => 2 * u() - 1)(uniforms(seed))
        : normals(seed);
      const rows = [];
      for (let i = 0; i < offset + count; i++) rows.push(Array.from({ length: d }, next));
      return rows.slice(offset);
    }

    function inputs(body) {
      if (!k && body.classes) throw new Error("This generator is unconditional: it takes no classes.");
      return [body.latents, k ? body.classes || classesOf(body.labels, body.latents.length) : null];
    }

    const routes = {
      info: () => info,
      directions: () => info.directions,
      async sample(b) {
        const offset = b.offset || 0, count = b.count || 16;
        const latents = sample(b.seed, count, offset);
        const labels = k ? latents.map((_, i) => (offset + i) % k) : null;
        return { latents, labels, images: await render(latents, k ? classesOf(labels, count) : null) };
      },
      async render(b) {
        return { images: await render(...inputs(b)) };
      },
      async walk(b) {
        if (b.latents.length < 2) throw new Error("Pick two or more samples to walk between.");
        const path = b.method === "linear" ? lerp : slerp;
        const latents = walkPath(b.latents, b.steps, path, b.loop);
        const classes = k ? walkPath(classesOf(b.labels, b.latents.length), b.steps, lerp, b.loop) : null;
        return { latents, classes, images: await render(latents, classes) };
      },
      async "class-walk"(b) {
        if (!k) throw new Error("This generator is unconditional: it has no classes to walk.");
        const t = Array.from({ length: b.steps }, (_, j) => j / (b.steps - 1));
        const latents = t.map(() => b.latents[0]);
        const classes = t.map((x) => lerp(oneHot(b.from, k), oneHot(b.to, k), x));
        return { latents, classes, images: await render(latents, classes) };
      },
      async arithmetic(b) {
        const means = [mean(b.a), mean(b.b), mean(b.c)];
        const centre = means[0].map((x, j) => x - means[1][j] + means[2][j]);
        const next = uniforms(b.seed || 0), noise = b.noise ?? 0.25, count = b.count || 8;
        const latents = [centre];
        for (let i = 1; i < count; i++) latents.push(centre.map((x) => x + noise * (2 * next() - 1)));
        const labels = k ? latents.map(() => b.label || 0) : null;
        return {
          means,
          mean_images: await render(means, k ? classesOf([0, 1, 2].map(() => b.label || 0), 3) : null),
          latents,
          labels,
          images: await render(latents, k ? classesOf(labels, count) : null),
        };
      },
      direction(b) {
        const vector = mean(b.positive).map((x, j) => x - mean(b.negative)[j]);
        if (!(Math.sqrt(dot(vector, vector)) > 1e-6)) throw new Error("The two groups have the same average; pick other samples.");
        return { direction: vector };
      },
      async move(b) {
        const started = performance.now();
        const [latents, classes] = inputs(b);
        const moved = latents.map((z) => z.map((x, j) => x + b.directions.reduce((s, v, n) => s + b.amounts[n] * v[j], 0)));
        if (moved.some((z) => z.some((x) => Math.abs(x) > MAX_ABS_LATENT))) throw new Error("The move takes the latents too far; move back.");
        const images = await render(moved, classes);
        return { latents: moved, images, ms: Math.round(10 * (performance.now() - started)) / 10 };
      },
    };

    // As sampling.images.make_grid: cells enlarged by a whole factor to 64
    // pixels or more, 2-pixel gutters of a dark line then a light one.
    async function gridPng(images, columns) {
      const scale = Math.max(1, Math.ceil(64 / Math.max(h, w)));
      const [ch, cw] = [h * scale + 2, w * scale + 2];
      const rows = Math.ceil(images.length / columns);
      const grid = document.createElement("canvas");
      grid.width = columns * cw + 2;
      grid.height = rows * ch + 2;
      const g = grid.getContext("2d");
      g.fillStyle = "rgb(208, 208, 208)";
      g.fillRect(0, 0, grid.width, grid.height);
      g.fillStyle = "rgb(48, 48, 48)";
      for (let y = 0; y < grid.height; y += ch) g.fillRect(0, y, grid.width, 1);
      for (let x = 0; x < grid.width; x += cw) g.fillRect(x, 0, 1, grid.height);
      g.imageSmoothingEnabled = false;
      for (const [i, src] of images.entries()) {
        const img = new Image();
        img.src = src;
        await img.decode();
        g.drawImage(img, 2 + (i % columns) * cw, 2 + Math.floor(i / columns) * ch, w * scale, h * scale);
      }
      return new Promise((resolve) => grid.toBlob(resolve, "image/png"));
    }

    return {
      ort,
      // The downloads the page can make itself: the PNG of a grid.
      async download(path, body) {
        if (!path.endsWith("/export/png")) throw new Error("This download needs the server: python -m dcgan_tf.explore RUN.");
        return gridPng(await render(...inputs(body)), body.columns || Math.min(body.latents.length, 8));
      },
      async answer(path, body) {
        const route = routes[path.replace(/^\/?api\//, "")];
        if (!route) throw new Error("This needs the server: python -m dcgan_tf.explore RUN.");
        return route(body || {});
      },
    };
  }

  return { start };
})();
