// A field's control. It always shows the device's confirmed value (the field's current value,
// updated by the field's `updated` event); a change is only a request through POST /api/action,
// marked pending until the next confirmed value arrives (or 10 s pass).
import { useEffect, useRef, useState } from 'preact/hooks';
import { action } from '../api.js';
import { controlOf, hexColor, showValue, truthy } from '../util.jsx';

const PENDING_MS = 10000;

function usePending(field) {
  const [pending, setPending] = useState(null); // {at, ts} while a request waits for the device
  const [error, setError] = useState('');
  const ts = field.current?.timestamp;
  useEffect(() => {
    if (pending && ts !== pending.ts) setPending(null);
  }, [ts]);
  useEffect(() => {
    if (!pending) return;
    const t = setTimeout(() => {
      setPending(null);
      setError('no confirmation from the device');
    }, PENDING_MS);
    return () => clearTimeout(t);
  }, [pending]);
  const send = async (payload) => {
    setError('');
    setPending({ at: Date.now(), ts });
    try {
      await action(`field:${field.id}`, payload);
    } catch (e) {
      setPending(null);
      setError(e.message);
    }
  };
  return { pending: !!pending, error, send };
}

export function Control({ field, canEdit }) {
  const kind = canEdit ? controlOf(field) : 'none';
  const p = usePending(field);
  let ctl;
  if (kind === 'switch') ctl = <Switch field={field} p={p} />;
  else if (kind === 'slider') ctl = <Slider field={field} p={p} />;
  else if (kind === 'color') ctl = <Color field={field} p={p} />;
  else if (kind === 'input') ctl = <ValueInput field={field} p={p} />;
  else ctl = <span class="value">{showValue(field)}</span>;
  return (
    <span class={`control ${p.pending ? 'pending' : ''}`} data-control={kind} aria-busy={p.pending ? 'true' : 'false'}>
      {ctl}
      {p.error && (
        <span class="error small" role="alert">
          {p.error}
        </span>
      )}
    </span>
  );
}

function Switch({ field, p }) {
  const on = truthy(field.current?.value);
  return (
    <button
      type="button"
      role="switch"
      class="switch"
      aria-checked={on ? 'true' : 'false'}
      aria-label={`${field.name || field.fieldId}: ${on ? 'on' : 'off'}`}
      disabled={p.pending}
      onClick={() => p.send(on ? '0' : '1')}
    >
      <span class="knob" />
    </button>
  );
}

function Slider({ field, p }) {
  const confirmed = Number(field.current?.value ?? 0);
  const [v, setV] = useState(confirmed);
  const dragging = useRef(false);
  useEffect(() => {
    if (!dragging.current) setV(confirmed);
  }, [confirmed]);
  return (
    <span class="slider">
      <input
        type="range"
        min="0"
        max="100"
        value={v}
        aria-label={field.name || field.fieldId}
        onInput={(e) => {
          dragging.current = true;
          setV(Number(e.target.value));
        }}
        onChange={(e) => {
          dragging.current = false;
          p.send(e.target.value);
        }}
      />
      <span class="value" data-confirmed={confirmed}>
        {showValue(field)}
      </span>
    </span>
  );
}

function Color({ field, p }) {
  const hex = hexColor(field.current?.value);
  return (
    <span class="color">
      <input
        type="color"
        value={hex}
        aria-label={field.name || field.fieldId}
        onChange={(e) => p.send(e.target.value.slice(1).toUpperCase())}
      />
      <span class="value">{showValue(field)}</span>
    </span>
  );
}

function ValueInput({ field, p }) {
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState('');
  if (!editing)
    return (
      <span class="value-edit">
        <span class="value">{showValue(field)}</span>
        <button
          type="button"
          class="ghost small"
          title="send a value"
          aria-label={`set ${field.name || field.fieldId}`}
          onClick={() => {
            setText(String(field.current?.value ?? ''));
            setEditing(true);
          }}
        >
          ✎
        </button>
      </span>
    );
  return (
    <form
      class="value-form"
      onSubmit={(e) => {
        e.preventDefault();
        p.send(text);
        setEditing(false);
      }}
    >
      <input value={text} onInput={(e) => setText(e.target.value)} aria-label={`value for ${field.name || field.fieldId}`} />
      <button type="submit" class="small">
        Set
      </button>
      <button type="button" class="ghost small" onClick={() => setEditing(false)}>
        ✕
      </button>
    </form>
  );
}
