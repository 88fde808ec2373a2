// What the views need to know about a phone: whether the narrow layout is on (the same
// breakpoint as app.css), and a touch-and-hold on an element (a message's tools).
import { useEffect, useRef, useState } from "preact/hooks";

export const PHONE = "(max-width: 40rem)"; // app.css: @media (max-width: 40rem)
const HOLD_MS = 500; // as long as a platform long press (Android's default long-press timeout)
const SLOP_PX = 10; // a finger that moves more than this is scrolling, not holding

export function usePhone() {
  const [phone, setPhone] = useState(() => matchMedia(PHONE).matches);
  useEffect(() => {
    const query = matchMedia(PHONE);
    const onChange = () => setPhone(query.matches);
    query.addEventListener("change", onChange);
    return () => query.removeEventListener("change", onChange);
  }, []);
  return phone;
}

// Handlers for an element: `onHold` runs when one finger stays down HOLD_MS without moving.
// The context menu a long press may open as well is kept closed once the hold counted, and so
// is the click the lifted finger would make where the platform's own long press comes later
// than HOLD_MS (a hold on the author's name would open their card).
export function useLongPress(onHold) {
  const timer = useRef(null);
  const start = useRef(null);
  const held = useRef(false);
  const cancel = () => {
    clearTimeout(timer.current);
    timer.current = null;
  };
  useEffect(() => cancel, []);
  return {
    onTouchStart(event) {
      cancel();
      held.current = false;
      if (event.touches.length !== 1) return;
      start.current = { x: event.touches[0].clientX, y: event.touches[0].clientY };
      timer.current = setTimeout(() => {
        timer.current = null;
        held.current = true;
        onHold();
      }, HOLD_MS);
    },
    onTouchMove(event) {
      const touch = event.touches[0];
      if (!touch || !start.current) return;
      if (Math.hypot(touch.clientX - start.current.x, touch.clientY - start.current.y) > SLOP_PX) cancel();
    },
    onTouchEnd(event) {
      if (held.current && event.cancelable) event.preventDefault(); // no click after a hold
      cancel();
    },
    onTouchCancel: cancel,
    onContextMenu(event) {
      if (held.current) event.preventDefault();
    },
  };
}
