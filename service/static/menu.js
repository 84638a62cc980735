// The header menu is a <details> that works without script. With script, its toggle states
// aria-expanded (as KRDS's 전체메뉴 button does) and Esc closes it, giving focus back to the toggle.
document.addEventListener("DOMContentLoaded", () => {
  const menu = document.getElementById("menu");
  if (!menu) return;
  const toggle = menu.querySelector("summary");
  const sync = () => toggle.setAttribute("aria-expanded", String(menu.open));
  sync();
  menu.addEventListener("toggle", sync);
  menu.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && menu.open) {
      menu.open = false;
      toggle.focus();
    }
  });
});
