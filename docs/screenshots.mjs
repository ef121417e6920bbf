// Screenshots of the Desk, as a new user would click through it (headless Chromium).
// usage: node shoot.mjs http://SITE:PORT OUTDIR
import { chromium } from "playwright-core";

const [base, out] = process.argv.slice(2);
const host = new URL(base).hostname;
const browser = await chromium.launch({
	executablePath: "/usr/bin/chromium",
	args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
		"--disable-sync", "--no-first-run", `--host-resolver-rules=MAP ${host} 127.0.0.1`],
});
const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
const shot = (name, opts = {}) => page.screenshot({ path: `${out}/${name}.png`, ...opts });
const settle = () => page.waitForTimeout(1200);

await page.goto(`${base}/login`);
await page.fill("#login_email", "Administrator");
await page.fill("#login_password", "admin");
await page.click(".btn-login");
await page.waitForURL(/\/app/);

async function settings() {
	await page.goto(`${base}/app/legacy-dispatch-settings`);
	await page.waitForSelector('[data-fieldname="health_html"] .alert, [data-fieldname="health_html"] p');
	await settle();
}
async function menu(group, item) {
	await page.click(`.inner-group-button[data-label="${encodeURIComponent(group)}"] button`);
	await page.click(`.inner-group-button[data-label="${encodeURIComponent(group)}"] .dropdown-item[data-label="${encodeURIComponent(item)}"]`);
}

await page.goto(`${base}/app/legacy-dispatch`);
await page.waitForSelector(".number-card-loading", { state: "detached" }).catch(() => {});
await page.waitForTimeout(2500);
await shot("workspace");

await settings();
await shot("settings", { fullPage: true });
await shot("settings-header", { clip: { x: 0, y: 0, width: 1400, height: 140 } });

await menu("Legacy", "Test connection");
await page.waitForSelector(".modal.show .msgprint");
await settle();
await shot("test-connection-ok");
await page.keyboard.press("Escape");

await page.fill('[data-fieldname="password"] input', "wrong password");
await menu("Legacy", "Test connection");
await page.waitForSelector(".modal.show .msgprint");
await settle();
await shot("test-connection-failed");
await page.keyboard.press("Escape");
await settings(); // drop the unsaved password
page.once("dialog", (d) => d.accept());

await menu("Legacy", "Load departments");
await page.waitForTimeout(2500);
await page.locator('[data-fieldname="departments"]').scrollIntoViewIfNeeded();
await shot("departments", { fullPage: true });
await page.keyboard.press("Control+s");
await settle();

await page.click('button:has-text("Preview")');
await page.waitForSelector(".modal.show tbody tr");
await settle();
await shot("preview");
await page.keyboard.press("Escape");

await page.click('button:has-text("Run legacy sync")');
await page.waitForSelector(".modal.show .msgprint a[href*='sync-log']", { timeout: 60000 });
await settle();
await shot("run-result");
const log = await page.getAttribute(".modal.show .msgprint a[href*='sync-log']", "href");
await page.keyboard.press("Escape");

await page.goto(`${base}${log}`);
await page.waitForSelector('[data-fieldname="outcomes"]');
await settle();
await shot("sync-log", { fullPage: true });

await page.goto(`${base}/app/sync-log`);
await page.waitForSelector(".list-row");
await settle();
await shot("sync-log-list");

await page.goto(`${base}/app/query-report/Unmatched Customers`);
await page.waitForSelector(".dt-row, .dt-scrollable");
await settle();
await shot("report");

// Dispatch Job forms: one the bridge keeps in step, one dispatch owns
const jobs = await page.evaluate(async () => ({
	in_step: (await frappe.db.get_list("Dispatch Job", { filters: { legacy_in_step: 1, status: "open" }, limit: 1 }))[0].name,
	owned: (await frappe.db.get_list("Dispatch Job", { filters: { legacy_in_step: 0, status: "open", legacy_ticket_id: ["is", "set"] }, limit: 1 }))[0].name,
}));
for (const [name, job] of Object.entries(jobs)) {
	await page.goto(`${base}/app/dispatch-job/${job}`);
	await page.waitForSelector(".form-message");
	await settle();
	await shot(`job-${name}`, { clip: { x: 0, y: 0, width: 1400, height: 520 } });
}
await page.click(`.inner-group-button[data-label="${encodeURIComponent("Legacy")}"] button`);
await settle();
await shot("job-owned-actions", { clip: { x: 0, y: 0, width: 1400, height: 520 } });
await page.keyboard.press("Escape");

// the same Desk in French
await page.evaluate(() => frappe.call("frappe.client.set_value", { doctype: "User", name: "Administrator", fieldname: "language", value: "fr" }));
await page.waitForTimeout(1000);
await settings();
await shot("settings-fr", { fullPage: true });
await page.click(`button:has-text("Aperçu")`);
await page.waitForSelector(".modal.show tbody tr");
await settle();
await shot("preview-fr");
await page.keyboard.press("Escape");
await page.goto(`${base}/app/dispatch-job/${jobs.owned}`);
await page.waitForSelector(".form-message");
await settle();
await shot("job-owned-fr", { clip: { x: 0, y: 0, width: 1400, height: 520 } });
await page.evaluate(() => frappe.call("frappe.client.set_value", { doctype: "User", name: "Administrator", fieldname: "language", value: "en" }));
await page.waitForTimeout(800);
await browser.close();
