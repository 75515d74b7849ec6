// Span editor: the text shown literally (text nodes only, never HTML), typed spans drawn as coloured
// highlights, selection by mouse or keyboard. Offsets are Python's: code points, not UTF-16 units.
//
// data: {id, text, types: [[key, label], ...], spans: [{start, end, label}]}
// state sent back: spans (sorted, non-overlapping), on every change; Enter is left to the page's
// key listener (the Label view submits what this state holds).
const WORD = /[\p{L}\p{N}\p{M}_]/u;
const COLOURS = ['#ffd6a5', '#caffbf', '#9bf6ff', '#bdb2ff', '#ffadad', '#fdffb6', '#a0c4ff', '#ffc6ff',
                 '#d0f4de', '#e4c1f9'];

function tokens(cps) {
  const out = [];
  let i = 0;
  while (i < cps.length) {
    if (/\s/u.test(cps[i])) { i++; continue; }
    let j = i + 1;
    if (WORD.test(cps[i])) while (j < cps.length && WORD.test(cps[j])) j++;
    out.push([i, j]);
    i = j;
  }
  return out;
}

const overlaps = (s, a, b) => s.start < b && a < s.end;

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  const S = parentElement.__cse && parentElement.__cse.id === data.id ? parentElement.__cse : {
    id: data.id, cps: Array.from(data.text), spans: (data.spans || []).map(s => ({ ...s })),
    sel: null, anchor: null, focus: null,
  };
  parentElement.__cse = S;
  S.types = data.types;
  S.toks = S.toks || tokens(S.cps);
  S.send = () => setStateValue('spans', S.spans.map(s => ({ start: s.start, end: s.end, label: s.label })));
  S.colour = label => COLOURS[Math.max(0, S.types.findIndex(t => t[1] === label)) % COLOURS.length];
  S.render = () => render(parentElement, S);
  S.render();
  window.__cseRoot = parentElement;  // the editor on screen: one listener serves whichever it is
  if (!window.__cseListening) {
    window.__cseListening = true;
    window.addEventListener('keydown', e => { if (window.__cseRoot) onKey(e, window.__cseRoot); }, true);
  }
}

function render(parent, S) {
  // Our own child: the parent also holds the <style> Streamlit put there.
  let root = parent.querySelector(':scope > .cse-root');
  if (!root) { root = el('div', 'cse-root'); parent.appendChild(root); }
  root.replaceChildren();
  const box = el('div', 'cse-box');
  const text = el('div', 'cse-text');
  text.setAttribute('data-testid', 'span-text');
  const cuts = new Set([0, S.cps.length]);
  for (const s of S.spans) { cuts.add(s.start); cuts.add(s.end); }
  if (S.sel) { cuts.add(S.sel.start); cuts.add(S.sel.end); }
  const at = [...cuts].sort((a, b) => a - b);
  for (let k = 0; k + 1 < at.length; k++) {
    const [a, b] = [at[k], at[k + 1]];
    const span = S.spans.find(s => s.start <= a && b <= s.end);
    const seg = el(span ? 'mark' : 'span', 'cse-seg', S.cps.slice(a, b).join(''));
    seg.dataset.s = a;
    if (span) {
      seg.style.background = S.colour(span.label);
      if (b === span.end) { seg.classList.add('cse-last'); seg.dataset.label = span.label; }
      seg.title = span.label;
    }
    if (S.sel && S.sel.start <= a && b <= S.sel.end) seg.classList.add('cse-sel');
    text.appendChild(seg);
  }
  text.addEventListener('mouseup', () => fromMouse(parent, S));
  box.appendChild(text);
  const bar = el('div', 'cse-bar');
  for (const [key, label] of S.types) {
    const chip = el('button', 'cse-chip', (key ? key + ' ' : '') + label);
    chip.type = 'button';
    chip.style.background = S.colour(label);
    chip.addEventListener('mousedown', e => e.preventDefault());  // keep the text selection
    chip.addEventListener('click', () => assign(S, label));
    bar.appendChild(chip);
  }
  const del = el('button', 'cse-chip cse-del', '⌫ remove');
  del.type = 'button';
  del.addEventListener('mousedown', e => e.preventDefault());
  del.addEventListener('click', () => remove(S));
  bar.appendChild(del);
  const status = el('span', 'cse-status', S.sel
    ? `selected [${S.sel.start}, ${S.sel.end}) “${S.cps.slice(S.sel.start, S.sel.end).join('')}”`
    : `${S.spans.length} span${S.spans.length === 1 ? '' : 's'}`);
  status.setAttribute('data-testid', 'span-status');
  bar.appendChild(status);
  box.appendChild(bar);
  root.appendChild(box);
  if (S.scroll) {  // a keyboard move keeps the selection in sight in a long text
    S.scroll = false;
    const first = text.querySelector('.cse-sel');
    if (first) first.scrollIntoView({ block: 'nearest' });
  }
}

// --- mouse -------------------------------------------------------------------------------------------

function offsetOf(node, off, text) {
  // A DOM point inside the text box → a code point offset of the text.
  if (node.nodeType === Node.TEXT_NODE) {
    const seg = node.parentElement;
    return Number(seg.dataset.s) + Array.from(node.textContent.slice(0, off)).length;
  }
  if (node === text) {
    const seg = text.children[off];
    return seg ? Number(seg.dataset.s) : null;
  }
  if (node.dataset && node.dataset.s !== undefined) {
    return Number(node.dataset.s) + (off > 0 ? Array.from(node.textContent).length : 0);
  }
  return null;
}

function fromMouse(root, S) {
  const sel = window.getSelection();
  const text = root.querySelector('.cse-text');
  if (!sel || sel.rangeCount === 0 || !text) return;
  const r = sel.getRangeAt(0);
  if (!text.contains(r.startContainer) || !text.contains(r.endContainer)) return;
  let a = offsetOf(r.startContainer, r.startOffset, text);
  let b = offsetOf(r.endContainer, r.endOffset, text);
  if (a === null || b === null) return;
  if (a > b) [a, b] = [b, a];
  if (a === b) {  // a click: select the span under it, else the token
    const hit = S.spans.find(s => s.start <= a && a < s.end) || tokenRange(S, S.toks.findIndex(t => t[0] <= a && a < t[1]));
    if (!hit) return;
    [a, b] = [hit.start, hit.end];
  }
  while (a < b && /\s/u.test(S.cps[a])) a++;
  while (b > a && /\s/u.test(S.cps[b - 1])) b--;
  if (a >= b) return;
  sel.removeAllRanges();
  select(S, a, b);
}

function tokenRange(S, i) {
  return i >= 0 && i < S.toks.length ? { start: S.toks[i][0], end: S.toks[i][1] } : null;
}

function select(S, a, b) {
  S.sel = { start: a, end: b };
  S.anchor = Math.max(0, S.toks.findIndex(t => t[1] > a));
  const last = S.toks.map(t => t[0] < b).lastIndexOf(true);
  S.focus = Math.max(S.anchor, last);
  S.render();
}

// --- keys --------------------------------------------------------------------------------------------

const typing = x => x && (x.tagName === 'TEXTAREA' || x.isContentEditable || x.tagName === 'SELECT'
    || (x.tagName === 'INPUT' && x.type !== 'range' && x.type !== 'button'));

function onKey(e, root) {
  const S = root.__cse;
  if (!S || !root.isConnected || typing(document.activeElement) || e.altKey || e.ctrlKey || e.metaKey) return;
  const handled = act(S, e.key, e.shiftKey);
  if (handled) { e.preventDefault(); e.stopPropagation(); }
}

function act(S, key, shift) {
  const n = S.toks.length;
  if (key === 'ArrowRight' || key === 'ArrowLeft') {
    if (!n) return true;
    const step = key === 'ArrowRight' ? 1 : -1;
    if (S.focus === null) { S.anchor = S.focus = step > 0 ? 0 : n - 1; }
    else if (shift) { S.focus = Math.min(n - 1, Math.max(0, S.focus + step)); }
    else {
      const edge = step > 0 ? Math.max(S.anchor, S.focus) : Math.min(S.anchor, S.focus);
      S.anchor = S.focus = Math.min(n - 1, Math.max(0, edge + step));
    }
    const [lo, hi] = [Math.min(S.anchor, S.focus), Math.max(S.anchor, S.focus)];
    S.sel = { start: S.toks[lo][0], end: S.toks[hi][1] };
    S.scroll = true;
    S.render();
    return true;
  }
  if (key === 'Escape' && S.sel) { S.sel = null; S.anchor = S.focus = null; S.render(); return true; }
  if (key === 'Backspace' || key === 'Delete') { remove(S); return true; }
  const type = S.types.find(t => t[0] === key);
  if (type) { assign(S, type[1]); return true; }
  return false;
}

function assign(S, label) {
  if (!S.sel) return;
  const { start, end } = S.sel;
  S.spans = S.spans.filter(s => !overlaps(s, start, end));  // a new span replaces those it overlaps
  S.spans.push({ start, end, label });
  S.spans.sort((x, y) => x.start - y.start || x.end - y.end);
  S.render();
  S.send();
}

function remove(S) {
  if (!S.sel) return;
  const { start, end } = S.sel;
  const kept = S.spans.filter(s => !overlaps(s, start, end));
  if (kept.length === S.spans.length) return;
  S.spans = kept;
  S.render();
  S.send();
}
