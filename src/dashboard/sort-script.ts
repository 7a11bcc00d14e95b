// The site's one script: click-to-sort for tables marked data-sortable. Progressive enhancement:
// without it the tables are complete and readable; with it each header becomes a button (so it
// is reachable by keyboard) and aria-sort tells assistive technology the current order.
// Cells sort by their data-value when present (numbers, ISO times, padded versions), else text;
// empty values go last in both directions; the sort is stable.
export const SORT_SCRIPT = `(function(){
function key(cell,num){var v=cell.getAttribute('data-value');if(v===null)v=cell.textContent.trim();if(v===''||v==='\\u2013')return null;if(num){var n=Number(v);return isNaN(n)?null:n}return v}
function sortBy(table,index,th){var num=th.getAttribute('data-type')==='num';var dir=th.getAttribute('aria-sort')==='ascending'?'descending':'ascending';
var heads=table.tHead.rows[0].cells;for(var i=0;i<heads.length;i++)heads[i].removeAttribute('aria-sort');th.setAttribute('aria-sort',dir);
var body=table.tBodies[0];var rows=Array.prototype.slice.call(body.rows);var m=dir==='ascending'?1:-1;
var keyed=rows.map(function(r,i){return{r:r,i:i,k:key(r.cells[index],num)}});
keyed.sort(function(a,b){if(a.k===null||b.k===null){return a.k===b.k?a.i-b.i:(a.k===null?1:-1)}var c=num?a.k-b.k:(a.k<b.k?-1:a.k>b.k?1:0);return c===0?a.i-b.i:c*m});
keyed.forEach(function(x){body.appendChild(x.r)});var live=document.getElementById('sort-status');if(live)live.textContent='Sorted by '+th.textContent.trim()+', '+dir;}
var tables=document.querySelectorAll('table[data-sortable]');
for(var t=0;t<tables.length;t++){(function(table){var heads=table.tHead.rows[0].cells;for(var i=0;i<heads.length;i++){(function(th,index){
if(th.getAttribute('data-sort')==='none')return;var b=document.createElement('button');b.type='button';b.className='sort';
while(th.firstChild)b.appendChild(th.firstChild);th.appendChild(b);b.addEventListener('click',function(){sortBy(table,index,th)});})(heads[i],i)}})(tables[t])}
})();`;
