/** A short two-tone chime made with Web Audio (no sound file to fetch on an offline LAN). */
let ctx: AudioContext | null = null;

export function chime(): void {
  // Tests and integrations can watch this event; it fires whether or not the browser lets audio play.
  window.dispatchEvent(new CustomEvent('mupza:chime'));
  try {
    ctx ??= new AudioContext();
    if (ctx.state === 'suspended') void ctx.resume().catch(() => undefined);
    const t = ctx.currentTime;
    for (const [freq, at] of [
      [880, 0],
      [1318.5, 0.16],
    ] as const) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, t + at);
      gain.gain.exponentialRampToValueAtTime(0.3, t + at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + at + 0.35);
      osc.connect(gain).connect(ctx.destination);
      osc.start(t + at);
      osc.stop(t + at + 0.4);
    }
  } catch {
    // No audio device: the flash still shows.
  }
}
