// Select or clear every finding on the page from the header checkbox.
document.addEventListener("change", (event) => {
  const box = event.target;
  if (box && box.id === "select-all") {
    for (const pick of document.querySelectorAll("input.pick")) {
      pick.checked = box.checked;
    }
  }
});
